//! CSV rows built field by field into one reused line buffer.
//!
//! The run files have a fixed shape (numbers, seconds, short texts), millions of rows, and
//! only text fields can ever need quoting. Building each row here and handing it to the
//! buffered file in one piece costs a fraction of a general CSV writer's per-byte state
//! machine. The format is RFC 4180's, as the `csv` crate writes it with its defaults: fields
//! separated by commas, rows ended by `\n`, a field quoted only when it holds a comma, a
//! double quote, CR or LF, and quotes inside a quoted field doubled.

use std::io::{self, Write};

/// Whether a field holds a comma, a double quote, CR or LF. Short fields are checked byte by
/// byte; long ones (reply texts) with vectorised searches.
fn needs_quotes(bytes: &[u8]) -> bool {
    if bytes.len() < 48 {
        bytes
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    } else {
        memchr::memchr3(b',', b'"', b'\n', bytes).is_some()
            || memchr::memchr(b'\r', bytes).is_some()
    }
}

/// One row being built. Fields are appended in order; [`Row::end`] writes the row out.
#[derive(Debug)]
pub(crate) struct Row<'a> {
    line: &'a mut Vec<u8>,
    /// Whether a field has been started (the next one needs a comma).
    started: bool,
}

impl<'a> Row<'a> {
    /// Starts a row in `line` (cleared first).
    pub(crate) fn new(line: &'a mut Vec<u8>) -> Row<'a> {
        line.clear();
        Row {
            line,
            started: false,
        }
    }

    fn separate(&mut self) {
        if self.started {
            self.line.push(b',');
        }
        self.started = true;
    }

    /// A text field, quoted when it must be.
    pub(crate) fn text(&mut self, text: &str) {
        self.separate();
        let bytes = text.as_bytes();
        if !needs_quotes(bytes) {
            self.line.extend_from_slice(bytes);
            return;
        }
        self.quoted(bytes);
    }

    /// A text field written by `value`'s `Display`, quoted when it must be (rendered in
    /// place: no string is made unless it needs quotes).
    pub(crate) fn display(&mut self, value: &impl std::fmt::Display) {
        self.separate();
        let start = self.line.len();
        write!(self.line, "{value}").expect("writing to a vector does not fail");
        if needs_quotes(&self.line[start..]) {
            let text = self.line.split_off(start);
            self.quoted(&text);
        }
    }

    fn quoted(&mut self, bytes: &[u8]) {
        self.line.push(b'"');
        for (i, part) in bytes.split(|&b| b == b'"').enumerate() {
            if i > 0 {
                self.line.extend_from_slice(b"\"\"");
            }
            self.line.extend_from_slice(part);
        }
        self.line.push(b'"');
    }

    /// An empty field.
    pub(crate) fn empty(&mut self) {
        self.separate();
    }

    /// Starts a field that the caller appends itself, knowing it needs no quoting (digits,
    /// dots, letters).
    pub(crate) fn unquoted(&mut self) -> &mut Vec<u8> {
        self.separate();
        self.line
    }

    /// A field the caller knows needs no quoting.
    pub(crate) fn plain(&mut self, bytes: &[u8]) {
        self.unquoted().extend_from_slice(bytes);
    }

    /// A whole number.
    pub(crate) fn number(&mut self, n: u64) {
        self.plain(itoa::Buffer::new().format(n).as_bytes());
    }

    /// Seconds with six decimals, as `SimTime::fmt_secs` prints them: the microseconds'
    /// digits with a point put in before the last six.
    pub(crate) fn secs(&mut self, micros: u64) {
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(micros).as_bytes();
        let line = self.unquoted();
        match digits.len().checked_sub(6) {
            Some(whole) if whole > 0 => {
                line.extend_from_slice(&digits[..whole]);
                line.push(b'.');
                line.extend_from_slice(&digits[whole..]);
            }
            _ => {
                line.extend_from_slice(&b"0.000000"[..8 - digits.len()]);
                line.extend_from_slice(digits);
            }
        }
    }

    /// Ends the row and writes it to `out`.
    pub(crate) fn end(self, out: &mut impl Write) -> io::Result<()> {
        self.line.push(b'\n');
        out.write_all(self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displayed_fields_are_quoted_like_text() {
        for text in ["plain", "a, b", "say \"hi\"", "two\nlines", ""] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let mut row = Row::new(&mut a);
            row.number(1);
            row.text(text);
            row.end(&mut Vec::new()).unwrap();
            let mut row = Row::new(&mut b);
            row.number(1);
            row.display(&text);
            row.end(&mut Vec::new()).unwrap();
            assert_eq!(a, b, "{text:?}");
        }
    }

    /// The row as the `csv` crate writes it with its default settings.
    fn by_the_csv_crate(fields: &[&str]) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(fields).unwrap();
        w.into_inner().unwrap()
    }

    fn by_row(fields: &[&str]) -> Vec<u8> {
        let mut line = Vec::new();
        let mut out = Vec::new();
        let mut row = Row::new(&mut line);
        for f in fields {
            row.text(f);
        }
        row.end(&mut out).unwrap();
        out
    }

    #[test]
    fn rows_are_written_as_the_csv_crate_writes_them() {
        for fields in [
            &["1", "bob@example.net", "delivered"][..],
            &["a,b", "say \"hi\"", "two\nlines", "cr\rhere", ""],
            &["", "", "x"],
            &["\"", ",", "\"\""],
        ] {
            assert_eq!(
                String::from_utf8(by_row(fields)).unwrap(),
                String::from_utf8(by_the_csv_crate(fields)).unwrap()
            );
        }
    }

    #[test]
    fn seconds_have_six_decimals() {
        let mut line = Vec::new();
        let mut row = Row::new(&mut line);
        for micros in [0, 1, 999_999, 1_000_000, 12_345_678, u64::MAX] {
            row.secs(micros);
        }
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "0.000000,0.000001,0.999999,1.000000,12.345678,18446744073709.551615"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_seconds_have_six_decimals(micros: u64) {
            let mut line = Vec::new();
            Row::new(&mut line).secs(micros);
            let expected = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
            proptest::prop_assert_eq!(String::from_utf8(line).unwrap(), expected);
        }

        // (A reader drops a byte order mark at the start of its input, so none is generated.)
        #[test]
        fn any_text_round_trips_through_a_csv_reader(
            fields in proptest::collection::vec(r"[^\x{feff}]{0,12}", 2..6),
        ) {
            let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
            let bytes = by_row(&refs);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[..]);
            let record = reader.records().next().unwrap().unwrap();
            let back: Vec<&str> = record.iter().collect();
            proptest::prop_assert_eq!(back, refs);
        }
    }
}
