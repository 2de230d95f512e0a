//! A JSON array read element by element as its bytes arrive, so that a large list (Sonarr's
//! calendar of a 100k-episode library is about 45 MB) never sits in memory whole: each element is
//! parsed as soon as it is complete, kept or dropped, and its bytes are let go.
//!
//! The splitter only finds where the top-level elements begin and end (it tracks strings,
//! escapes and bracket depth); serde parses each element.

/// Splits the bytes of a JSON array (`[ elem, elem, … ]`) into its top-level elements.
#[derive(Debug, Default)]
pub struct ArraySplitter {
    state: State,
    /// The bytes of the element being read.
    element: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The longest an element may be; longer means the body is not what was expected.
    max_element: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    #[default]
    Start,
    /// Between elements: expecting an element, `,` or `]`.
    Between,
    /// Inside an element.
    Element,
    /// After the closing `]`.
    Done,
}

/// Why the bytes are not a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("expected a JSON array, found {0:?}")]
    NotAnArray(char),
    #[error("unexpected {0:?} after the end of the array")]
    TrailingData(char),
    #[error("the array ended early (the body was cut short)")]
    Truncated,
    #[error("an element of the array is longer than {0} bytes")]
    ElementTooLarge(usize),
}

impl ArraySplitter {
    pub fn new(max_element: usize) -> Self {
        ArraySplitter {
            max_element,
            ..ArraySplitter::default()
        }
    }

    /// Takes the next bytes of the body; calls `element` with each element completed in them.
    /// An error from `element` stops the feeding and is returned as is.
    pub fn feed<E: From<SplitError>>(
        &mut self,
        bytes: &[u8],
        mut element: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for &b in bytes {
            match self.state {
                State::Start => match b {
                    b'[' => self.state = State::Between,
                    b if b.is_ascii_whitespace() || b == 0xEF || b == 0xBB || b == 0xBF => {}
                    other => return Err(SplitError::NotAnArray(char::from(other)).into()),
                },
                State::Between => match b {
                    b',' => {}
                    b']' => self.state = State::Done,
                    b if b.is_ascii_whitespace() => {}
                    _ => {
                        self.state = State::Element;
                        if self.take(b)? {
                            self.complete(&mut element)?;
                        }
                    }
                },
                State::Element => {
                    let scalar_ends = self.depth == 0
                        && !self.in_string
                        && (b == b',' || b == b']' || b.is_ascii_whitespace());
                    if scalar_ends {
                        // A number, `true`, `false` or `null` ends at what follows it.
                        self.complete(&mut element)?;
                        if b == b']' {
                            self.state = State::Done;
                        }
                    } else if self.take(b)? {
                        self.complete(&mut element)?;
                    }
                }
                State::Done => {
                    if !b.is_ascii_whitespace() {
                        return Err(SplitError::TrailingData(char::from(b)).into());
                    }
                }
            }
        }
        Ok(())
    }

    /// The body ended: it must have been a whole array.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(SplitError::Truncated),
        }
    }

    /// Adds `b` to the element; true when it closes the element (an object, array or string).
    fn take(&mut self, b: u8) -> Result<bool, SplitError> {
        if self.element.len() >= self.max_element {
            return Err(SplitError::ElementTooLarge(self.max_element));
        }
        self.element.push(b);
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                return Ok(self.depth == 0);
            }
            return Ok(false);
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                return Ok(self.depth == 0);
            }
            _ => {}
        }
        Ok(false)
    }

    fn complete<E>(&mut self, element: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let result = element(&self.element);
        self.element.clear();
        self.depth = 0;
        self.state = State::Between;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Every element the splitter finds, parsed, when `text` arrives in pieces of `chunk` bytes.
    fn split(text: &str, chunk: usize) -> Result<Vec<Value>, SplitError> {
        let mut splitter = ArraySplitter::new(1 << 20);
        let mut out = Vec::new();
        for piece in text.as_bytes().chunks(chunk.max(1)) {
            splitter.feed(piece, |bytes: &[u8]| {
                out.push(serde_json::from_slice(bytes).expect("a whole element"));
                Ok::<(), SplitError>(())
            })?;
        }
        splitter.finish()?;
        Ok(out)
    }

    const TRICKY: &str = r#" [
        {"a": "x]}", "b": [1, {"c": "\"}\\"}], "d": null},
        [1, 2, [3]],
        "a \"string\" with ] and }",
        42, -1.5e3, true, false, null,
        {}
    ] "#;

    #[test]
    fn elements_come_out_whole_however_the_bytes_are_cut() {
        let expected: Vec<Value> = serde_json::from_str(TRICKY).expect("valid");
        for chunk in 1..=TRICKY.len() {
            assert_eq!(
                split(TRICKY, chunk).expect("splits"),
                expected,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn empty_arrays_and_whitespace() {
        assert_eq!(split("[]", 1).expect("empty"), Vec::<Value>::new());
        assert_eq!(split(" \n[ \t]\n", 2).expect("empty"), Vec::<Value>::new());
        assert_eq!(split("\u{feff}[1]", 1).expect("bom"), vec![Value::from(1)]);
    }

    #[test]
    fn what_is_not_an_array_is_named() {
        assert_eq!(split("{\"a\":1}", 3), Err(SplitError::NotAnArray('{')));
        assert_eq!(split("<html>", 3), Err(SplitError::NotAnArray('<')));
        assert_eq!(split("[1, 2", 2), Err(SplitError::Truncated));
        assert_eq!(split("[{\"a\": 1}", 2), Err(SplitError::Truncated));
        assert_eq!(split("", 1), Err(SplitError::Truncated));
        assert_eq!(split("[1] x", 1), Err(SplitError::TrailingData('x')));
    }

    #[test]
    fn an_element_over_the_limit_is_refused() {
        let mut splitter = ArraySplitter::new(8);
        let result = splitter.feed(br#"[{"a": "0123456789"}]"#, |_: &[u8]| {
            Ok::<(), SplitError>(())
        });
        assert_eq!(result, Err(SplitError::ElementTooLarge(8)));
    }

    #[test]
    fn an_error_from_the_consumer_stops_the_feeding() {
        let mut splitter = ArraySplitter::new(1024);
        let mut seen = 0;
        let result = splitter.feed(b"[1, 2, 3]", |_: &[u8]| {
            seen += 1;
            if seen == 2 {
                Err(SplitError::Truncated)
            } else {
                Ok(())
            }
        });
        assert_eq!(result, Err(SplitError::Truncated));
        assert_eq!(seen, 2);
    }
}
