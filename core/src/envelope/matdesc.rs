//! The material description (`matdesc`): a JSON object of string to string.
//!
//! SDKs write it differently (Python `{"k": "v"}`, Go/C++/Java/PHP `{"k":"v"}`), and the Go v2,
//! Python v2 and PHP v2 readers compare the raw text, so an object written by one language may
//! silently miss the key registered in another. osscse parses strictly, compares semantically
//! (same key/value pairs), keeps the received text verbatim for re-emission, and writes the Go
//! canonical form (sorted keys, compact, Go's HTML-safe escaping) for the widest compatibility.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::error::MatdescError;

/// The longest matdesc text accepted (the whole OSS user-metadata budget is 8 KiB).
pub const MAX_MATDESC_LEN: usize = 64 * 1024;

/// A parsed material description.
///
/// Equality is semantic: `{"a": "b"}` equals `{"a":"b"}`.
#[derive(Clone, Debug, Eq)]
pub struct Matdesc {
    text: String,
    entries: Vec<(String, String)>,
}

impl PartialEq for Matdesc {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Matdesc {
    /// Parses matdesc JSON text strictly: one object whose values are all strings, no duplicate
    /// keys, nothing after the object but white space.
    ///
    /// # Errors
    /// A [`MatdescError`] that locates the problem.
    pub fn parse(text: &str) -> Result<Self, MatdescError> {
        if text.len() > MAX_MATDESC_LEN {
            return Err(MatdescError::TooLarge);
        }
        let mut entries = Parser {
            s: text.as_bytes(),
            pos: 0,
        }
        .object()?;
        sort_unique(&mut entries)?;
        Ok(Self {
            text: String::from(text),
            entries,
        })
    }

    /// Builds a matdesc from key/value pairs; its text is the canonical form.
    ///
    /// # Errors
    /// [`MatdescError::DuplicateKey`] when a key repeats, [`MatdescError::TooLarge`] when the
    /// canonical text exceeds [`MAX_MATDESC_LEN`].
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, MatdescError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut entries: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        sort_unique(&mut entries)?;
        let text = canonical_text(&entries);
        if text.len() > MAX_MATDESC_LEN {
            return Err(MatdescError::TooLarge);
        }
        Ok(Self { text, entries })
    }

    /// The text as received (or the canonical form for [`Matdesc::from_pairs`]).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The canonical form: keys sorted by bytes, no white space, Go `json.Marshal` escaping.
    pub fn canonical(&self) -> String {
        canonical_text(&self.entries)
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.entries[i].1.as_str())
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `{}`: no pairs. SDKs omit the header for an empty matdesc.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl core::str::FromStr for Matdesc {
    type Err = MatdescError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn sort_unique(entries: &mut [(String, String)]) -> Result<(), MatdescError> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    match entries.windows(2).position(|w| w[0].0 == w[1].0) {
        Some(i) => Err(MatdescError::DuplicateKey { offset: i + 1 }),
        None => Ok(()),
    }
}

fn canonical_text(entries: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, k);
        out.push(':');
        push_json_string(&mut out, v);
    }
    out.push('}');
    out
}

/// Go `encoding/json` string escaping (with its default HTML-safe escapes).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), MatdescError> {
        match self.peek() {
            Some(c) if c == b => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(MatdescError::UnexpectedChar { offset: self.pos }),
            None => Err(MatdescError::UnexpectedEnd),
        }
    }

    fn object(&mut self) -> Result<Vec<(String, String)>, MatdescError> {
        let mut entries = Vec::new();
        self.ws();
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let key = self.string()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
                if self.peek() != Some(b'"') {
                    return match self.peek() {
                        None => Err(MatdescError::UnexpectedEnd),
                        Some(_) => Err(MatdescError::NonStringValue { offset: self.pos }),
                    };
                }
                let value = self.string()?;
                entries.push((key, value));
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    Some(_) => return Err(MatdescError::UnexpectedChar { offset: self.pos }),
                    None => return Err(MatdescError::UnexpectedEnd),
                }
            }
        }
        self.ws();
        if self.pos != self.s.len() {
            return Err(MatdescError::TrailingData { offset: self.pos });
        }
        Ok(entries)
    }

    fn hex4(&mut self) -> Result<u32, MatdescError> {
        let start = self.pos;
        let digits = self
            .s
            .get(start..start + 4)
            .ok_or(MatdescError::UnexpectedEnd)?;
        let mut v = 0u32;
        for &d in digits {
            let n = char::from(d)
                .to_digit(16)
                .ok_or(MatdescError::InvalidEscape { offset: start })?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, MatdescError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            // Copy a run of plain bytes at once (the input is a &str, so runs are valid UTF-8
            // as long as they end at an ASCII byte).
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let run = core::str::from_utf8(&self.s[start..self.pos])
                .map_err(|_| MatdescError::UnexpectedChar { offset: start })?;
            out.push_str(run);
            match self.peek() {
                None => return Err(MatdescError::UnexpectedEnd),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_at = self.pos;
                    self.pos += 1;
                    let e = self.peek().ok_or(MatdescError::UnexpectedEnd)?;
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(MatdescError::InvalidEscape { offset: esc_at });
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(MatdescError::InvalidEscape { offset: esc_at });
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(cp)
                                .ok_or(MatdescError::InvalidEscape { offset: esc_at })?
                        }
                        _ => return Err(MatdescError::InvalidEscape { offset: esc_at }),
                    };
                    out.push(c);
                }
                Some(_) => return Err(MatdescError::UnexpectedChar { offset: self.pos }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_and_go_forms_are_equal() {
        let py = Matdesc::parse(r#"{"desc": "x", "a": "b"}"#).unwrap();
        let go = Matdesc::parse(r#"{"a":"b","desc":"x"}"#).unwrap();
        assert_eq!(py, go);
        assert_eq!(py.as_str(), r#"{"desc": "x", "a": "b"}"#);
        assert_eq!(py.canonical(), r#"{"a":"b","desc":"x"}"#);
        assert_eq!(py.get("desc"), Some("x"));
        assert_eq!(py.get("zzz"), None);
        assert_ne!(py, Matdesc::parse(r#"{"a":"b"}"#).unwrap());
    }

    #[test]
    fn escapes_round_trip_and_go_escaping() {
        let m = Matdesc::parse(r#"{"k\u00e9\ud83d\ude00":"<a&b>\n\"\\\/"}"#).unwrap();
        assert_eq!(m.get("ké😀"), Some("<a&b>\n\"\\/"));
        assert_eq!(m.canonical(), r#"{"ké😀":"\u003ca\u0026b\u003e\n\"\\/"}"#);
        assert_eq!(Matdesc::parse(&m.canonical()).unwrap(), m);
    }

    #[test]
    fn strictness() {
        use MatdescError::*;
        let cases: &[(&str, MatdescError)] = &[
            ("", UnexpectedEnd),
            ("[]", UnexpectedChar { offset: 0 }),
            (r#"{"a":1}"#, NonStringValue { offset: 5 }),
            (r#"{"a":null}"#, NonStringValue { offset: 5 }),
            (r#"{"a":{"b":"c"}}"#, NonStringValue { offset: 5 }),
            (r#"{"a":"b",}"#, UnexpectedChar { offset: 9 }),
            (r#"{"a":"b"} x"#, TrailingData { offset: 10 }),
            (r#"{"a":"b""#, UnexpectedEnd),
            (r#"{"a":"\q"}"#, InvalidEscape { offset: 6 }),
            (r#"{"a":"\ud800"}"#, InvalidEscape { offset: 6 }),
            (r#"{"a":"\u12"}"#, InvalidEscape { offset: 8 }),
            ("{\"a\":\"\u{1}\"}", UnexpectedChar { offset: 6 }),
            (r#"{"a":"b","a":"c"}"#, DuplicateKey { offset: 1 }),
            ("{'a':'b'}", UnexpectedChar { offset: 1 }),
        ];
        for (text, want) in cases {
            assert_eq!(Matdesc::parse(text).unwrap_err(), *want, "{text:?}");
        }
        assert!(Matdesc::parse(" { } ").unwrap().is_empty());
    }
}
