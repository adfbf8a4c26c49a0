//! Redaction of URLs, so that credentials in them (a password, a provider's API key in the path
//! or query) never reach a log line, an error text or an answer.
//!
//! - [`origin`]: a URL reduced to its scheme and host (and port): what error texts served to
//!   callers may show.
//! - [`urls_in_text`]: every URL inside a free text (an RPC or HTTP client's error message)
//!   reduced to its origin.
//! - [`credentials`]: a URL with its userinfo and query replaced by `***`, path kept: what the
//!   operator's own `jejak config` shows.
//!
//! A password may contain `@` without being percent-encoded (`postgres://u:p@ss@db/jejak`): the
//! host is what follows the *last* `@` of the authority.

/// What replaces a redacted part.
pub const MASK: &str = "***";

/// `scheme://host[:port]` of `url`; the text unchanged when it is not a URL.
pub fn origin(url: &str) -> String {
    match split(url) {
        Some(p) => format!("{}://{}", p.scheme, p.host),
        None => url.to_owned(),
    }
}

/// `url` with its userinfo and query (and fragment) masked, scheme, host, port and path kept.
pub fn credentials(url: &str) -> String {
    let Some(p) = split(url) else { return url.to_owned() };
    let mut out = format!("{}://", p.scheme);
    if p.userinfo {
        out.push_str(MASK);
        out.push('@');
    }
    out.push_str(p.host);
    out.push_str(p.path);
    if p.query {
        out.push('?');
        out.push_str(MASK);
    }
    out
}

/// `text` with every `scheme://...` in it reduced to its [`origin`].
pub fn urls_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let end = rest[at..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | '(' | '{' | '}' | '|')
            })
            .map_or(rest.len(), |i| at + i);
        let token = &rest[scheme_start..end];
        // Punctuation that ends a sentence or a `url: error` prefix is kept.
        let trimmed = token.trim_end_matches([':', ',', ';', '.']);
        out.push_str(&rest[..scheme_start]);
        if scheme_start == at {
            // No scheme before `://`: nothing to recognise, keep it.
            out.push_str("://");
            rest = &rest[at + 3..];
            continue;
        }
        out.push_str(&origin(trimmed));
        out.push_str(&token[trimmed.len()..]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

struct Parts<'a> {
    scheme: &'a str,
    userinfo: bool,
    host: &'a str,
    path: &'a str,
    query: bool,
}

fn split(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
        return None;
    }
    // The authority ends at the first `/`, `?` or `#` after its last `@`: a password may hold
    // an unencoded `@`, but userinfo never holds a `/` (RFC 3986).
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let (userinfo, host) = match authority.rfind('@') {
        Some(i) => (true, &authority[i + 1..]),
        None => (false, authority),
    };
    // `user:pass` with a `/` in the password would otherwise leave `user:pa` as the host: a port
    // is digits only, so anything else after the host is dropped.
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    let host = if host.starts_with('[') {
        match host.find(']') {
            Some(i) if host[i + 1..].strip_prefix(':').is_some_and(digits) => host,
            Some(i) => &host[..=i],
            None => "",
        }
    } else {
        match host.split_once(':') {
            Some((h, port)) if !digits(port) => h,
            _ => host,
        }
    };
    let tail = &rest[auth_end..];
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    Some(Parts { scheme, userinfo, host, path: &tail[..path_end], query: path_end < tail.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_keep_scheme_and_host_only() {
        assert_eq!(origin("https://polygon-mainnet.example/v3/0123456789abcdef"), "https://polygon-mainnet.example");
        assert_eq!(origin("https://user:secret@rpc.example:8545/path?key=k"), "https://rpc.example:8545");
        assert_eq!(origin("postgres://jejak:p@ss@w0rd@db.internal:5432/jejak"), "postgres://db.internal:5432");
        assert_eq!(origin("http://[::1]:8545/x"), "http://[::1]:8545");
        assert_eq!(origin("http://[::1]/x"), "http://[::1]");
        assert_eq!(origin("not a url"), "not a url");
    }

    #[test]
    fn credentials_mask_userinfo_and_query() {
        assert_eq!(
            credentials("postgres://jejak:p@ss@w0rd@db.internal:5432/jejak?sslmode=require&password=x"),
            "postgres://***@db.internal:5432/jejak?***"
        );
        assert_eq!(credentials("https://rpc.example/v2/abc"), "https://rpc.example/v2/abc");
        assert_eq!(credentials("https://rpc.example?apikey=abc"), "https://rpc.example?***");
        assert_eq!(credentials("sqlite:///var/lib/jejak/jejak.db"), "sqlite:///var/lib/jejak/jejak.db");
    }

    #[test]
    fn urls_inside_error_texts_are_reduced_to_their_origin() {
        let text = "error sending request for url (https://u:pw@rpc.example/v3/KEY123?token=T): connection refused";
        assert_eq!(urls_in_text(text), "error sending request for url (https://rpc.example): connection refused");
        let text = "http://a.example/KEY1: HTTP 500; then wss://b.example:8546/ws/KEY2, gave up.";
        assert_eq!(urls_in_text(text), "http://a.example: HTTP 500; then wss://b.example:8546, gave up.");
        assert_eq!(urls_in_text("nothing here :// at all"), "nothing here :// at all");
        for secret in ["KEY123", "pw", "token", "KEY1", "KEY2"] {
            assert!(
                !urls_in_text("see https://u:pw@h.example/KEY123?token=T and http://a.example/KEY1 wss://b/KEY2")
                    .contains(secret)
            );
        }
    }

    #[test]
    fn a_password_with_a_slash_leaves_at_most_the_user_name() {
        let o = origin("postgres://jejak:pa/ss@db/jejak");
        assert!(!o.contains("pa"), "{o}");
    }
}
