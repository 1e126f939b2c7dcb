//! `--include` / `--exclude` patterns.

/// Glob match: `*` any run within a segment, `**` any run, `?` one character within a segment.
pub(crate) fn glob(p: &[u8], t: &[u8]) -> bool {
    match p {
        [] => t.is_empty(),
        [b'*', b'*', b'/', rest @ ..] => {
            glob(rest, t)
                || t.iter()
                    .enumerate()
                    .any(|(i, c)| *c == b'/' && glob(rest, &t[i + 1..]))
        }
        [b'*', b'*', rest @ ..] => (0..=t.len()).any(|i| glob(rest, &t[i..])),
        [b'*', rest @ ..] => {
            let mut i = 0;
            loop {
                if glob(rest, &t[i..]) {
                    return true;
                }
                if i == t.len() || t[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        [b'?', rest @ ..] => match t {
            [c, tail @ ..] if *c != b'/' => {
                // One character: skip a whole UTF-8 sequence.
                let extra = tail.iter().take_while(|b| (**b & 0xC0) == 0x80).count();
                glob(rest, &tail[extra..])
            }
            _ => false,
        },
        [c, rest @ ..] => t.first() == Some(c) && glob(rest, &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        let g = |p: &str, t: &str| glob(p.as_bytes(), t.as_bytes());
        assert!(g("*.txt", "a b.txt"));
        assert!(!g("*.txt", "dir/a.txt"));
        assert!(g("**/*.txt", "dir/sub/a.txt"));
        assert!(g("dir/**", "dir/sub/a.txt"));
        assert!(g("d?r/*", "dür/x"));
        assert!(!g("d?r/*", "d/r/x"));
        assert!(g("**", ""));
        assert!(g("**/a.txt", "a.txt"));
        assert!(!g("**/a.txt", "ba.txt"));
        assert!(!g("a*", "b"));
    }
}
