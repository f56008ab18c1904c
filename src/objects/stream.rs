//! Splits a list response (`{"kind": "PodList", "metadata": {...}, "items": [{...}, ...]}`) into the texts of
//! its items as the bytes arrive, so that a list of any length is read holding one item at a time, never the
//! whole answer. Only the structure is checked here (strings, nesting, that every item is an object, that
//! the answer ends where the list does); each item's own text is checked when it is decoded.

/// Why an answer is not a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAList(pub String);

impl std::fmt::Display for NotAList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The splitter's state between chunks.
#[derive(Default)]
pub struct Items {
    /// Open objects and arrays around the next byte.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// In the top-level object, before a key (after `{` or `,`).
    expect_key: bool,
    /// The top-level key being read or last read.
    key: Vec<u8>,
    reading_key: bool,
    /// Inside the `items` array.
    in_items: bool,
    /// Inside an item.
    capturing: bool,
    /// The current item's bytes from earlier chunks.
    partial: Vec<u8>,
    started: bool,
    done: bool,
    /// Bytes read so far, to say where an answer went wrong.
    offset: usize,
}

impl Items {
    /// Reads `chunk`, handing each item completed in it to `item`.
    pub fn feed(&mut self, chunk: &[u8], mut item: impl FnMut(&[u8]) -> Result<(), NotAList>) -> Result<(), NotAList> {
        // Where the current item starts in this chunk (0 when it started in an earlier one).
        let mut start = 0;
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.reading_key = false;
                    i += 1;
                    continue;
                } else if !self.reading_key {
                    // Most of an object's bytes are inside strings: skip to the next quote or backslash.
                    match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                        Some(at) => i += at,
                        None => i = chunk.len(),
                    }
                    continue;
                }
                if self.reading_key {
                    self.key.push(b);
                }
                i += 1;
                continue;
            }
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => {}
                _ if self.done => return Err(self.error(i, "more follows the end of the list")),
                b'"' => {
                    self.item_position(i, "a string")?;
                    self.in_string = true;
                    if self.depth == 1 && self.expect_key {
                        self.reading_key = true;
                        self.expect_key = false;
                        self.key.clear();
                    }
                }
                b'{' | b'[' => {
                    if self.depth == 0 {
                        if b != b'{' {
                            return Err(self.error(i, "the answer is not an object"));
                        }
                        self.started = true;
                        self.expect_key = true;
                    } else if self.in_items && self.depth == 2 && !self.capturing {
                        if b != b'{' {
                            return Err(self.error(i, "an item is not an object"));
                        }
                        self.capturing = true;
                        start = i;
                    } else if self.depth == 1 && b == b'[' && self.key == b"items" {
                        self.in_items = true;
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err(self.error(i, "a bracket closes what was not opened"));
                    }
                    self.depth -= 1;
                    if self.capturing && self.depth == 2 {
                        self.capturing = false;
                        if self.partial.is_empty() {
                            item(&chunk[start..=i])?;
                        } else {
                            self.partial.extend_from_slice(&chunk[start..=i]);
                            let whole = std::mem::take(&mut self.partial);
                            item(&whole)?;
                            // The buffer is kept for the next item that spans chunks (its capacity reused).
                            self.partial = whole;
                            self.partial.clear();
                        }
                    } else if self.in_items && self.depth == 1 {
                        self.in_items = false;
                    } else if self.depth == 0 {
                        self.done = true;
                    }
                }
                b',' if self.depth == 1 => self.expect_key = true,
                b',' | b':' => {}
                _ => self.item_position(i, "a number, true, false or null")?,
            }
            i += 1;
        }
        if self.capturing {
            self.partial.extend_from_slice(&chunk[start..]);
        }
        self.offset += chunk.len();
        Ok(())
    }

    /// Whether the answer ended where the list does (not cut short).
    pub fn finish(&self) -> Result<(), NotAList> {
        if !self.started {
            return Err(NotAList("the answer is empty".into()));
        }
        if !self.done {
            return Err(NotAList(format!("the answer ends after {} bytes, inside the list", self.offset)));
        }
        Ok(())
    }

    /// A scalar or string where an item must start is no item.
    fn item_position(&self, at: usize, what: &str) -> Result<(), NotAList> {
        match self.depth {
            0 => Err(self.error(at, "the answer is not an object")),
            2 if self.in_items && !self.capturing => Err(self.error(at, &format!("an item is {what}, not an object"))),
            _ => Ok(()),
        }
    }

    fn error(&self, at: usize, what: &str) -> NotAList {
        NotAList(format!("{what} (at byte {})", self.offset + at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Result<Vec<String>, NotAList> {
        let mut items = Items::default();
        let mut out = Vec::new();
        for chunk in chunks {
            items.feed(chunk, |raw| {
                out.push(String::from_utf8(raw.to_vec()).unwrap());
                Ok(())
            })?;
        }
        items.finish().map(|()| out)
    }

    const LIST: &str = r#"{"kind":"PodList","metadata":{"resourceVersion":"7","items":["not these"]},
        "items":[{"metadata":{"name":"a \"}]\\"}},{"spec":{"items":[{"x":1}]}} , {}],"trailer":[{"z":{}}]}"#;

    #[test]
    fn items_are_split_whole_whatever_their_strings_hold() {
        let items = split(&[LIST.as_bytes()]).unwrap();
        assert_eq!(items, [r#"{"metadata":{"name":"a \"}]\\"}}"#, r#"{"spec":{"items":[{"x":1}]}}"#, "{}"]);
    }

    #[test]
    fn the_same_items_come_out_of_any_chunking() {
        let whole = split(&[LIST.as_bytes()]).unwrap();
        let bytes = LIST.as_bytes();
        for size in 1..=17 {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(split(&chunks).unwrap(), whole, "chunks of {size} bytes");
        }
    }

    #[test]
    fn what_is_not_a_list_or_is_cut_short_is_an_error() {
        assert!(split(&[br#"{"items":[]}"#]).unwrap().is_empty());
        assert!(split(&[br#"{"items":null}"#]).unwrap().is_empty());
        assert!(split(&[br#"{"kind":"Status","items":[{"a":1}"#]).unwrap_err().0.contains("inside the list"));
        assert!(split(&[br#"{"items":[{"a":"b}]}"#]).unwrap_err().0.contains("inside the list"));
        assert!(split(&[b""]).unwrap_err().0.contains("empty"));
        assert!(split(&[br#"[{"a":1}]"#]).unwrap_err().0.contains("not an object"));
        assert!(split(&[br#"{"items":[1]}"#]).unwrap_err().0.contains("an item is a number"));
        assert!(split(&[br#"{"items":["x"]}"#]).unwrap_err().0.contains("an item is a string"));
        assert!(split(&[br#"{"items":[]}"#, b" x"]).unwrap_err().0.contains("at byte 13"));
        assert!(split(&[br#"{"items":[]}}"#]).unwrap_err().0.contains("more follows"));
    }
}
