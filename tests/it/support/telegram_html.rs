//! Telegram's HTML parse mode, as the Bot API checks it: what a reply's HTML must be for
//! Telegram to accept it. Pure and dependency-free, so the fake Bot API, the tests and the
//! fuzz targets (`fuzz/`) all use this one copy.

/// Parses text in Telegram's HTML parse mode and returns what the user sees (tags removed,
/// entities decoded), or the reason Telegram would reject it ("can't parse entities: ...").
///
/// Allowed: `b strong i em u ins s strike del tg-spoiler pre` (no attributes), `a href="..."`,
/// `code` (optionally `class="language-x"` directly inside `pre`), `blockquote` (optionally
/// `expandable`), `span class="tg-spoiler"`, `tg-emoji emoji-id="digits"`. Tags are
/// case-insensitive, must nest and close properly; `pre`/`code` can't contain other tags (except
/// `pre > code`), blockquotes can't nest. Attribute values must be quoted. In text, `<`, `>` and
/// `&` must be escaped; only `&lt; &gt; &amp; &quot;` and numeric `&#N;` / `&#xH;` entities exist.
pub fn parse_telegram_html(input: &str) -> Result<String, String> {
    let bytes = input.as_bytes();
    let len = bytes.len();
    let mut plain = String::with_capacity(len);
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    while i < len {
        match bytes[i] {
            b'<' => {
                let start = i;
                if bytes.get(i + 1) == Some(&b'/') {
                    let mut j = i + 2;
                    while j < len && is_name(bytes[j]) {
                        j += 1;
                    }
                    let name = input[i + 2..j].to_ascii_lowercase();
                    while j < len && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j >= len || bytes[j] != b'>' {
                        return Err(format!("Can't find end of the end tag at byte offset {start}"));
                    }
                    i = j + 1;
                    match stack.pop() {
                        None => return Err(format!("Unexpected end tag \"</{name}>\" at byte offset {start}")),
                        Some(open) if open != name => {
                            return Err(format!("Unmatched end tag at byte offset {start}, expected \"</{open}>\", found \"</{name}>\""))
                        }
                        Some(_) => {}
                    }
                } else {
                    let mut j = i + 1;
                    while j < len && is_name(bytes[j]) {
                        j += 1;
                    }
                    let name = input[i + 1..j].to_ascii_lowercase();
                    if name.is_empty() {
                        return Err(format!("Unescaped \"<\" at byte offset {start} (use &lt;)"));
                    }
                    const TAGS: &[&str] = &[
                        "b",
                        "strong",
                        "i",
                        "em",
                        "u",
                        "ins",
                        "s",
                        "strike",
                        "del",
                        "a",
                        "code",
                        "pre",
                        "blockquote",
                        "span",
                        "tg-spoiler",
                        "tg-emoji",
                    ];
                    if !TAGS.contains(&name.as_str()) {
                        return Err(format!("Unsupported start tag \"{name}\" at byte offset {start}"));
                    }
                    let mut attrs: Vec<(String, Option<String>)> = Vec::new();
                    loop {
                        while j < len && bytes[j].is_ascii_whitespace() {
                            j += 1;
                        }
                        if j >= len {
                            return Err(format!("Unclosed start tag at byte offset {start}"));
                        }
                        if bytes[j] == b'>' {
                            j += 1;
                            break;
                        }
                        if bytes[j] == b'/' {
                            return Err(format!("Self-closing tag \"{name}\" at byte offset {start} is not supported"));
                        }
                        let an_start = j;
                        while j < len && (is_name(bytes[j]) || bytes[j] == b'_') {
                            j += 1;
                        }
                        if j == an_start {
                            return Err(format!("Unexpected character in start tag \"{name}\" at byte offset {j}"));
                        }
                        let an = input[an_start..j].to_ascii_lowercase();
                        while j < len && bytes[j].is_ascii_whitespace() {
                            j += 1;
                        }
                        let value = if j < len && bytes[j] == b'=' {
                            j += 1;
                            while j < len && bytes[j].is_ascii_whitespace() {
                                j += 1;
                            }
                            if j >= len {
                                return Err(format!("Unclosed start tag at byte offset {start}"));
                            }
                            let q = bytes[j];
                            if q != b'"' && q != b'\'' {
                                return Err(format!("Value of attribute \"{an}\" at byte offset {j} must be quoted"));
                            }
                            j += 1;
                            let vs = j;
                            while j < len && bytes[j] != q {
                                j += 1;
                            }
                            if j >= len {
                                return Err(format!("Unclosed start tag at byte offset {start}"));
                            }
                            let v = decode_attr(&input[vs..j]);
                            j += 1;
                            Some(v)
                        } else {
                            None
                        };
                        if attrs.iter().any(|(a, _)| a == &an) {
                            return Err(format!("Duplicate attribute \"{an}\" in tag \"{name}\" at byte offset {start}"));
                        }
                        attrs.push((an, value));
                    }
                    validate_tag(&name, &attrs, &stack, start)?;
                    stack.push(name);
                    i = j;
                }
            }
            b'&' => {
                let (decoded, next) = parse_entity(input, i)?;
                plain.push(decoded);
                i = next;
            }
            b'>' => return Err(format!("Unescaped \">\" at byte offset {i} (use &gt;)")),
            _ => match input[i..].chars().next() {
                Some(ch) => {
                    plain.push(ch);
                    i += ch.len_utf8();
                }
                None => break,
            },
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("Can't find end tag corresponding to start tag \"{open}\""));
    }
    Ok(plain)
}

fn validate_tag(name: &str, attrs: &[(String, Option<String>)], stack: &[String], at: usize) -> Result<(), String> {
    let unsupported = |a: &str| Err(format!("Unsupported attribute \"{a}\" in tag \"{name}\" at byte offset {at}"));
    match name {
        "a" => {
            for (a, _) in attrs {
                if a != "href" {
                    return unsupported(a);
                }
            }
            match attrs.first() {
                Some((_, Some(href))) if !href.trim().is_empty() => {}
                _ => return Err(format!("Tag \"a\" at byte offset {at} needs a non-empty href attribute")),
            }
        }
        "code" => {
            for (a, v) in attrs {
                let in_pre = stack.last().map(String::as_str) == Some("pre");
                let lang_ok = v.as_deref().is_some_and(|v| v.starts_with("language-") && v.len() > 9);
                if a != "class" || !in_pre || !lang_ok {
                    return unsupported(a);
                }
            }
        }
        "blockquote" => {
            for (a, v) in attrs {
                if a != "expandable" || v.is_some() {
                    return unsupported(a);
                }
            }
        }
        "span" => match attrs {
            [(a, Some(v))] if a == "class" && v == "tg-spoiler" => {}
            [] => return Err(format!("Tag \"span\" at byte offset {at} must have class=\"tg-spoiler\"")),
            [(a, _), ..] => return unsupported(a),
        },
        "tg-emoji" => match attrs {
            [(a, Some(v))] if a == "emoji-id" && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {}
            [] => return Err(format!("Tag \"tg-emoji\" at byte offset {at} must have a numeric emoji-id")),
            [(a, _), ..] => return unsupported(a),
        },
        _ => {
            if let Some((a, _)) = attrs.first() {
                return unsupported(a);
            }
        }
    }
    if stack.iter().any(|t| t == "code") {
        return Err(format!("Tag \"{name}\" at byte offset {at} can't be nested inside \"code\""));
    }
    if stack.iter().any(|t| t == "pre") && !(name == "code" && stack.last().map(String::as_str) == Some("pre")) {
        return Err(format!("Tag \"{name}\" at byte offset {at} can't be nested inside \"pre\""));
    }
    if name == "blockquote" && stack.iter().any(|t| t == "blockquote") {
        return Err(format!("Blockquotes can't be nested (byte offset {at})"));
    }
    Ok(())
}

/// Parses the entity starting at `&` at byte `i`; returns the character and the next offset.
fn parse_entity(input: &str, i: usize) -> Result<(char, usize), String> {
    let bytes = input.as_bytes();
    let mut j = i + 1;
    while j < bytes.len() && j - i <= 32 && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'#') {
        j += 1;
    }
    if j >= bytes.len() || bytes[j] != b';' || j == i + 1 {
        return Err(format!("Unescaped \"&\" at byte offset {i} (use &amp;)"));
    }
    let body = &input[i + 1..j];
    let ch = match body {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => {
            if let Some(num) = body.strip_prefix('#') {
                let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                    Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => u32::from_str_radix(hex, 16).ok(),
                    Some(_) => None,
                    None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse::<u32>().ok(),
                    None => None,
                };
                match code.and_then(char::from_u32) {
                    Some(c) if c != '\0' => Some(c),
                    _ => return Err(format!("Invalid numeric character reference \"&{body};\" at byte offset {i}")),
                }
            } else {
                None
            }
        }
    };
    match ch {
        Some(c) => Ok((c, j + 1)),
        None => Err(format!("Unsupported HTML entity \"&{body};\" at byte offset {i}")),
    }
}

/// Attribute values: entities are decoded, a stray `&` is kept literally (Telegram is lenient there).
fn decode_attr(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw.as_bytes()[i] == b'&' {
            if let Ok((c, next)) = parse_entity(raw, i) {
                out.push(c);
                i = next;
                continue;
            }
        }
        match raw[i..].chars().next() {
            Some(ch) => {
                out.push(ch);
                i += ch.len_utf8();
            }
            None => break,
        }
    }
    out
}
