//! Tag-value lists, the `name=value; name=value` syntax of DKIM key records (RFC 6376
//! section 3.2) and DMARC records (RFC 7489 section 6.4).

/// The `(name, value)` pairs of `text`, in order, with whitespace around names and values
/// removed and empty pieces (such as after a final `;`) skipped. A piece without `=` or with
/// an empty name is an error carrying that piece.
pub(crate) fn tag_list(text: &str) -> impl Iterator<Item = Result<(&str, &str), &str>> {
    text.split(';').filter_map(|piece| {
        let piece = piece.trim_matches(is_space);
        if piece.is_empty() {
            return None;
        }
        Some(match piece.split_once('=') {
            Some((name, value)) if !name.trim_matches(is_space).is_empty() => {
                Ok((name.trim_matches(is_space), value.trim_matches(is_space)))
            }
            _ => Err(piece),
        })
    })
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_trims_and_reports_bad_pieces() {
        let tags: Vec<_> = tag_list(" v = DMARC1 ;p=reject;\t; x=").collect();
        assert_eq!(
            tags,
            [Ok(("v", "DMARC1")), Ok(("p", "reject")), Ok(("x", ""))]
        );
        let tags: Vec<_> = tag_list("v=DKIM1; junk; =x").collect();
        assert_eq!(tags, [Ok(("v", "DKIM1")), Err("junk"), Err("=x")]);
        assert_eq!(tag_list("").count(), 0);
    }
}
