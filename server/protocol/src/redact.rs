//! Submitted values out of serde's error messages: the gateway's JSON bodies
//! (`ApiJson`) and the signalling parser ([`crate::signal::parse`]) report what did not match
//! the schema through [`redact_quoted`], so no refusal echoes a submitted value (a card number
//! typed into any field included) back to the client or into a log.

/// Replaces input values in a serde message with `…`. serde's messages put the one submitted
/// value before `, expected` (from there on the message describes our schema and is kept),
/// quoted (`"..."`, strings) or backticked (numbers, booleans, characters, unknown variants and
/// fields). Everything from the first quote or backtick to the last one before the last
/// `, expected` is input and is replaced whole, so a value holding quotes, backticks or
/// `, expected` itself cannot end the redaction early; only the field name after
/// `missing field ` or `duplicate field ` (a name of the schema) is kept. An unterminated span
/// drops the rest of the input part. As a last net, no run of 6 or more digits survives.
pub fn redact_quoted(message: &str) -> String {
    let (input, schema) = message
        .rfind(", expected")
        .map_or((message, ""), |i| message.split_at(i));
    let is_delim = |c: char| c == '"' || c == '`';
    let mut out = String::with_capacity(message.len());
    match (input.find(is_delim), input.rfind(is_delim)) {
        (Some(first), Some(last)) if last > first => {
            let span = &input[first + 1..last];
            let named = input[..first].ends_with("missing field ")
                || input[..first].ends_with("duplicate field ");
            let keep = named && span.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            out.push_str(&input[..=first]);
            out.push_str(if keep { span } else { "…" });
            out.push_str(&input[last..]);
        }
        (Some(first), _) => out.push_str(&input[..=first]),
        _ => out.push_str(input),
    }
    out.push_str(schema);
    without_long_digit_runs(&out)
}

/// `text` with every run of 6 or more ASCII digits replaced by `…`.
fn without_long_digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 6 { "…" } else { &run });
        run.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted() {
        assert_eq!(
            redact_quoted("invalid type: string \"4111111111111111\", expected u64 at line 1"),
            "invalid type: string \"…\", expected u64 at line 1"
        );
        assert_eq!(redact_quoted("unterminated \"abc"), "unterminated \"");
        assert_eq!(
            redact_quoted("unknown variant `ceo`, expected one of `agent`, `patient`"),
            "unknown variant `…`, expected one of `agent`, `patient`"
        );
        assert_eq!(
            redact_quoted("unknown field `4111`, expected `a`"),
            "unknown field `…`, expected `a`"
        );
        assert_eq!(redact_quoted("no quotes"), "no quotes");
    }

    /// Issue 12 (fuzzing, target `signal`): serde prints numbers, booleans and characters in
    /// backticks and strings with `{:?}` escapes; neither may carry a submitted value (a card
    /// number) into an error message. Before the fix the number came through whole, and an
    /// escaped quote ended the redaction early.
    #[test]
    fn numbers_and_escaped_quotes_in_serde_messages_are_redacted() {
        for (message, redacted) in [
            (
                "invalid type: integer `4111111111111111`, expected a boolean",
                "invalid type: integer `…`, expected a boolean",
            ),
            (
                "invalid value: integer `4111111`, expected u16",
                "invalid value: integer `…`, expected u16",
            ),
            (
                "invalid type: floating point `4111111111111111.5`, expected u64",
                "invalid type: floating point `…`, expected u64",
            ),
            (
                r#"invalid type: string "x\"4111111111111111", expected a boolean"#,
                r#"invalid type: string "…", expected a boolean"#,
            ),
            (
                r#"invalid type: string "\", expected 4111", expected a boolean"#,
                r#"invalid type: string "…", expected a boolean"#,
            ),
            ("missing field `sdp`", "missing field `sdp`"),
            ("duplicate field `sdp`", "duplicate field `sdp`"),
            ("unterminated `4111", "unterminated `"),
            // A field name holding backticks (found by the `signal` target).
            (
                "unknown field `tokenstring `ty no string `typha``````999999999999````s`, expected one of `type`",
                "unknown field `…`, expected one of `type`",
            ),
            (
                "unknown field `a, expected 4111111111111111`, there are no fields",
                "unknown field `, expected …`, there are no fields",
            ),
        ] {
            assert_eq!(redact_quoted(message), redacted, "{message}");
        }
    }
}
