//! HTML escaping for the pages the gateway renders itself (the card iframe, pay-by-link, the
//! agent console): one function for text and quoted attribute values. Values are validated
//! before they reach a page; this is the second line.

/// `value` safe inside HTML text and inside a single- or double-quoted attribute value.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_both_quotes_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(escape("a\"b<c>&'"), "a&quot;b&lt;c&gt;&amp;&#39;");
        assert_eq!(escape("plain ünïcode 4242"), "plain ünïcode 4242");
        assert_eq!(escape(""), "");
    }
}
