//! Redaction for the opt-in unmatched-question log: no numbers, emails, handles or links.

/// Replaces URLs, email addresses, @handles and every digit, keeping the words an editor
/// needs to write a new phrasing. Line breaks become spaces (one question per line).
pub fn redact(text: &str) -> String {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let lower = word.to_lowercase();
        let core = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
        let email = !core.starts_with('@') && core.split_once('@').is_some_and(|(_, domain)| domain.contains('.'));
        let replaced = if email {
            "[email]".to_owned()
        } else if lower.contains("://") || core.starts_with("www.") || looks_like_domain(core) {
            "[link]".to_owned()
        } else if core.starts_with('@') && core.len() > 1 {
            "[handle]".to_owned()
        } else {
            word.chars().map(|c| if c.is_numeric() { '#' } else { c }).collect()
        };
        out.push(replaced);
    }
    out.join(" ")
}

/// "example.com", "t.me/x": a dot followed by a known top-level domain.
fn looks_like_domain(word: &str) -> bool {
    const TLDS: &[&str] = &["com", "org", "net", "gov", "edu", "io", "me", "co", "us", "info", "ly", "app"];
    word.split_once('.')
        .is_some_and(|(host, rest)| !host.is_empty() && TLDS.iter().any(|t| rest == *t || rest.starts_with(&format!("{t}/"))))
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn removes_personal_details() {
        let cases = [
            ("call me at 555-123-4567", "call me at ###-###-####"),
            ("mail jane.doe@example.com please", "mail [email] please"),
            ("or jo@example.com.", "or [email]"),
            ("ask @john_smith", "ask [handle]"),
            ("see https://example.com/a?b=1 and www.x.org", "see [link] and [link]"),
            ("visit example.com/page", "visit [link]"),
            ("i take 2mg\nat 9pm", "i take #mg at #pm"),
            ("what is klonopin", "what is klonopin"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input:?}");
        }
    }
}
