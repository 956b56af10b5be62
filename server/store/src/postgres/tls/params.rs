//! Takes the TLS parameters (`sslmode`, `sslrootcert`) out of a connection string before
//! [`tokio_postgres::Config`] parses the rest: the driver knows neither `verify-full` nor
//! `sslrootcert`, and the store decides both itself ([`super::TlsSettings`]).
//!
//! Both forms are handled: the URL form (`postgres://...?sslmode=verify-full&...`, values
//! percent-encoded) and the `key=value` form (`host=db sslmode='verify-full'`, values quoted
//! with `'` and escaped with `\`). A string this module cannot read is passed on unchanged,
//! so the driver reports what is wrong with it.

/// A connection string without its TLS parameters, and their values (the last one wins,
/// as in libpq).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Split {
    pub rest: String,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Why a TLS parameter could not be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BadEncoding(pub &'static str);

/// Splits `conn` into the string the driver parses and the TLS parameters.
pub(crate) fn split(conn: &str) -> Result<Split, BadEncoding> {
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        split_url(conn)
    } else {
        Ok(split_key_values(conn).unwrap_or_else(|| Split {
            rest: conn.to_owned(),
            ..Split::default()
        }))
    }
}

fn split_url(url: &str) -> Result<Split, BadEncoding> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok(Split {
            rest: url.to_owned(),
            ..Split::default()
        });
    };
    let mut split = Split::default();
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            "sslmode" => &mut split.sslmode,
            "sslrootcert" => &mut split.sslrootcert,
            _ => {
                kept.push(pair);
                continue;
            }
        };
        *slot = Some(percent_decode(value).ok_or(BadEncoding(key_name(key)))?);
    }
    split.rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(split)
}

fn key_name(key: &str) -> &'static str {
    if key == "sslmode" {
        "sslmode"
    } else {
        "sslrootcert"
    }
}

/// `%XX` decoding (and `+` kept as is, as the driver does); `None` for a bad escape or a
/// result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `key=value` form, rebuilt with every other value quoted; `None` when it does not
/// tokenize (the driver then reports the error).
fn split_key_values(conn: &str) -> Option<Split> {
    let mut split = Split::default();
    let mut kept = Vec::new();
    let mut rest = conn.trim_start();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c == '=' || c.is_whitespace())?;
        let key = &rest[..end];
        rest = rest[end..].trim_start().strip_prefix('=')?.trim_start();
        let (value, after) = take_value(rest)?;
        rest = after.trim_start();
        match key {
            "sslmode" => split.sslmode = Some(value),
            "sslrootcert" => split.sslrootcert = Some(value),
            _ => kept.push(format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )),
        }
    }
    split.rest = kept.join(" ");
    Some(split)
}

/// One value: quoted (`'...'`) or bare up to the next space, `\` escaping the next character.
fn take_value(s: &str) -> Option<(String, &str)> {
    let quoted = s.starts_with('\'');
    let mut value = String::new();
    let mut chars = s.char_indices().skip(usize::from(quoted));
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '\'' if quoted => return Some((value, &s[i + 1..])),
            c if !quoted && c.is_whitespace() => return Some((value, &s[i..])),
            c => value.push(c),
        }
    }
    (!quoted).then_some((value, ""))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn takes_the_tls_parameters_out_of_a_url() {
        let s = split(
            "postgres://u:p@db:5432/x?sslmode=verify-full&options=-csearch_path%3Ds&sslrootcert=%2Fetc%2Fca%20dir%2Fca.pem",
        )
        .unwrap();
        assert_eq!(s.rest, "postgres://u:p@db:5432/x?options=-csearch_path%3Ds");
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca dir/ca.pem"));
        let s = split("postgresql://db/x?sslmode=require").unwrap();
        assert_eq!(
            (s.rest.as_str(), s.sslmode.as_deref()),
            ("postgresql://db/x", Some("require"))
        );
        let s = split("postgres://db/x").unwrap();
        assert_eq!((s.rest.as_str(), s.sslmode), ("postgres://db/x", None));
    }

    #[test]
    fn takes_the_tls_parameters_out_of_key_values() {
        let s = split(r"host=db  sslmode = 'verify-full' password='it\'s a \\ secret' sslrootcert=/ca\ dir/ca.pem")
            .unwrap();
        assert_eq!(s.rest, r"host='db' password='it\'s a \\ secret'");
        assert_eq!(s.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(s.sslrootcert.as_deref(), Some("/ca dir/ca.pem"));
    }

    #[test]
    fn leaves_what_it_cannot_read_to_the_driver() {
        for conn in ["host=db sslmode", "host='db", "garbage", "host=db x"] {
            let s = split(conn).unwrap();
            assert_eq!((s.rest.as_str(), s.sslmode), (conn, None), "{conn}");
        }
        assert_eq!(
            split("postgres://db/x?sslrootcert=%ZZ"),
            Err(BadEncoding("sslrootcert"))
        );
        assert_eq!(
            split("postgres://db/x?sslmode=%C3"),
            Err(BadEncoding("sslmode"))
        );
    }
}
