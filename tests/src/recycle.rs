//! Large body buffers kept for reuse: a fresh 1 GiB `Vec` costs the server a page fault and a
//! zeroed page for every 4 KiB it receives (about as much CPU as copying the bytes out of the
//! socket), while a buffer of an object that was replaced or deleted already has its pages.
//! Only buffers of [`MIN_LEN`] bytes or more are kept, at most [`MAX_BUFFERS`] of them and
//! [`MAX_BYTES`] in all, so a test process holds little memory it does not use.

use std::sync::{Arc, Mutex};

/// Smallest buffer worth keeping (the size from which bodies are read in pipelined pieces).
pub(crate) const MIN_LEN: usize = 8 << 20;
/// Most buffers kept.
const MAX_BUFFERS: usize = 4;
/// Most bytes kept (capacity).
const MAX_BYTES: usize = 3 << 30;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// A buffer of exactly `len` bytes: a kept one of `len` to `2 × len` bytes of capacity when
/// there is one (its old contents, about to be overwritten, are not zeroed again), else a new
/// zeroed one.
pub(crate) fn take(len: usize) -> Vec<u8> {
    if len >= MIN_LEN
        && let Ok(mut pool) = POOL.lock()
        && let Some(i) = pool
            .iter()
            .enumerate()
            // Large enough, and not so large that a small object would pin a big buffer.
            .filter(|(_, v)| v.capacity() >= len && v.capacity() / 2 <= len)
            .min_by_key(|(_, v)| v.capacity())
            .map(|(i, _)| i)
    {
        let mut v = pool.swap_remove(i);
        if v.len() >= len {
            v.truncate(len);
        } else {
            v.resize(len, 0);
        }
        return v;
    }
    vec![0u8; len]
}

/// Keeps the buffer of a replaced or deleted object when nothing else holds it.
pub(crate) fn give(data: Arc<Vec<u8>>) {
    if let Ok(v) = Arc::try_unwrap(data) {
        give_vec(v);
    }
}

/// Keeps `v` if it is large enough, making room by dropping smaller kept buffers: the largest
/// buffers are the ones whose pages are dearest to fault in again.
pub(crate) fn give_vec(v: Vec<u8>) {
    if v.capacity() < MIN_LEN || v.capacity() > MAX_BYTES {
        return;
    }
    let Ok(mut pool) = POOL.lock() else {
        return;
    };
    pool.sort_by_key(Vec::capacity);
    loop {
        let held: usize = pool.iter().map(Vec::capacity).sum();
        if pool.len() < MAX_BUFFERS && held + v.capacity() <= MAX_BYTES {
            pool.push(v);
            return;
        }
        match pool.first() {
            Some(smallest) if smallest.capacity() < v.capacity() => {
                pool.remove(0);
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_buffers_come_back_at_the_asked_length() {
        let len = MIN_LEN + 5;
        give(Arc::new(vec![7u8; len]));
        let shorter = take(MIN_LEN);
        assert_eq!(shorter.len(), MIN_LEN);
        give(Arc::new(shorter));
        let longer = take(len);
        assert_eq!(longer.len(), len);
        // A buffer more than twice the asked length is left for a larger body.
        give(Arc::new(vec![3u8; 4 * MIN_LEN]));
        let fresh = take(MIN_LEN);
        assert!(fresh.capacity() < 2 * MIN_LEN, "{}", fresh.capacity());
        assert_eq!(take(3 * MIN_LEN).len(), 3 * MIN_LEN);
        // Small buffers and shared ones are not kept.
        give(Arc::new(vec![1u8; 16]));
        let shared = Arc::new(vec![0u8; MIN_LEN]);
        give(Arc::clone(&shared));
        assert_eq!(take(16).len(), 16);
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}
