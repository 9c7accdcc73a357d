//! Answer markup (a small Markdown subset) rendered to Telegram HTML and to plain text.
//!
//! Supported: paragraphs (blank line), bullets (`- ` or `* `), `**bold**`, `_italic_`,
//! `[text](https://...)`, and `\` to show the next character literally. Everything else is
//! text, escaped for HTML here, so operators can type `<`, `>` and `&` freely.

/// One text in both forms the front ends need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rich {
    /// Telegram HTML (parse_mode=HTML): only `<b>`, `<i>` and `<a href>`, everything escaped.
    pub html: String,
    /// What a person reads: no markup, links as "text (url)".
    pub plain: String,
}

impl Rich {
    /// Literal text (no markup), escaped for HTML.
    pub fn text(s: &str) -> Rich {
        Rich { html: escape_html(s), plain: s.to_owned() }
    }

    /// Joins parts with a blank line between them, skipping empty ones.
    pub fn join<'a>(parts: impl IntoIterator<Item = &'a Rich>) -> Rich {
        let mut out = Rich::default();
        for part in parts {
            if part.plain.is_empty() {
                continue;
            }
            if !out.plain.is_empty() {
                out.html.push_str("\n\n");
                out.plain.push_str("\n\n");
            }
            out.html.push_str(&part.html);
            out.plain.push_str(&part.plain);
        }
        out
    }

    /// Replaces `{name}` with a value in both forms (values are escaped for HTML).
    pub fn fill(&self, name: &str, value: &str) -> Rich {
        let key = format!("{{{name}}}");
        Rich { html: self.html.replace(&key, &escape_html(value)), plain: self.plain.replace(&key, value) }
    }

    /// Length as Telegram counts it: UTF-16 code units of the text the person sees.
    pub fn telegram_len(&self) -> usize {
        self.plain.encode_utf16().count()
    }
}

/// A markup problem: the line (0-based, within the text) and column (1-based, in characters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkupError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Escapes text for Telegram HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

enum Block {
    Paragraph(Vec<Rich>),
    List(Vec<Rich>),
}

/// Renders markup, or lists every problem found (all of them, not just the first).
pub fn render(source: &str) -> Result<Rich, Vec<MarkupError>> {
    let mut errors = Vec::new();
    // (block, joined to the previous block without a blank line)
    let mut blocks: Vec<(Block, bool)> = Vec::new();
    let mut blank_before = true;
    for (line_no, raw) in source.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            blank_before = true;
            continue;
        }
        let trimmed = line.trim_start();
        let indented = trimmed.len() < line.len();
        let bullet = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* "));
        let col_offset = line.chars().count() - trimmed.chars().count() + usize::from(bullet.is_some()) * 2;
        let content = bullet.unwrap_or(trimmed);
        let inline = match render_inline(content) {
            Ok(rich) => rich,
            Err((col, message)) => {
                errors.push(MarkupError { line: line_no, col: col + col_offset, message });
                continue;
            }
        };
        match (bullet.is_some(), blocks.last_mut()) {
            (true, Some((Block::List(items), _))) if !blank_before => items.push(inline),
            (true, _) => blocks.push((Block::List(vec![inline]), !blank_before)),
            (false, Some((Block::List(items), _))) if !blank_before && indented => {
                if let Some(last) = items.last_mut() {
                    append_line(last, &inline);
                }
            }
            (false, Some((Block::Paragraph(lines), _))) if !blank_before => lines.push(inline),
            (false, _) => blocks.push((Block::Paragraph(vec![inline]), !blank_before)),
        }
        blank_before = false;
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Rich::default();
    for (i, (block, tight)) in blocks.iter().enumerate() {
        if i > 0 {
            let sep = if *tight { "\n" } else { "\n\n" };
            out.html.push_str(sep);
            out.plain.push_str(sep);
        }
        match block {
            Block::Paragraph(lines) => {
                let mut para = Rich::default();
                for line in lines {
                    append_line(&mut para, line);
                }
                out.html.push_str(&para.html);
                out.plain.push_str(&para.plain);
            }
            Block::List(items) => {
                for (j, item) in items.iter().enumerate() {
                    if j > 0 {
                        out.html.push('\n');
                        out.plain.push('\n');
                    }
                    out.html.push_str("• ");
                    out.plain.push_str("• ");
                    out.html.push_str(&item.html);
                    out.plain.push_str(&item.plain);
                }
            }
        }
    }
    Ok(out)
}

/// Source lines of one paragraph join with a space, as in Markdown.
fn append_line(to: &mut Rich, line: &Rich) {
    if !to.plain.is_empty() {
        to.html.push(' ');
        to.plain.push(' ');
    }
    to.html.push_str(&line.html);
    to.plain.push_str(&line.plain);
}

/// Renders one line's inline markup; on error, the 1-based column and a message.
fn render_inline(line: &str) -> Result<Rich, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Rich::default();
    let mut bold: Option<usize> = None;
    let mut italic: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if c == '\\' && i + 1 < chars.len() {
            push_char(&mut out, chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '*' && next == '*' {
            if let Some(opened) = bold {
                // Telegram refuses crossed tags (<b><i>x</b></i>): the inner one closes first.
                if italic.is_some_and(|inner| inner > opened) {
                    return Err((
                        i + 1,
                        "\"**\" closes bold text while the italic text opened inside it is still open: close the \"_\" first".to_owned(),
                    ));
                }
                bold = None;
                out.html.push_str("</b>");
            } else {
                bold = Some(i + 1);
                out.html.push_str("<b>");
            }
            i += 2;
            continue;
        }
        if c == '_' && italic.is_none() && !prev.is_alphanumeric() && !next.is_whitespace() && next != '_' {
            italic = Some(i + 1);
            out.html.push_str("<i>");
            i += 1;
            continue;
        }
        if c == '_' && italic.is_some() && !prev.is_whitespace() && !next.is_alphanumeric() {
            if bold.is_some_and(|inner| italic.is_some_and(|opened| inner > opened)) {
                return Err((
                    i + 1,
                    "\"_\" closes italic text while the bold text opened inside it is still open: close the \"**\" first".to_owned(),
                ));
            }
            italic = None;
            out.html.push_str("</i>");
            i += 1;
            continue;
        }
        if c == '[' {
            if let Some((text, url, len)) = parse_link(&chars[i..]) {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err((i + 1, format!("link \"{url}\" must start with https:// or http://")));
                }
                let text_rich = render_inline(&text).map_err(|(col, msg)| (i + 1 + col, msg))?;
                out.html.push_str(&format!("<a href=\"{}\">{}</a>", escape_html(&url), text_rich.html));
                if text_rich.plain == url {
                    out.plain.push_str(&url);
                } else {
                    out.plain.push_str(&format!("{} ({url})", text_rich.plain));
                }
                i += len;
                continue;
            }
        }
        push_char(&mut out, c);
        i += 1;
    }
    if let Some(col) = bold {
        return Err((col, "\"**\" opens bold text that is not closed on this line".to_owned()));
    }
    if let Some(col) = italic {
        return Err((col, "\"_\" opens italic text that is not closed on this line".to_owned()));
    }
    Ok(out)
}

fn push_char(out: &mut Rich, c: char) {
    match c {
        '&' => out.html.push_str("&amp;"),
        '<' => out.html.push_str("&lt;"),
        '>' => out.html.push_str("&gt;"),
        c => out.html.push(c),
    }
    out.plain.push(c);
}

/// `[text](url)` at the start of `chars`: the text, the url and how many chars it spans.
fn parse_link(chars: &[char]) -> Option<(String, String, usize)> {
    let close = chars.iter().position(|c| *c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = close + 2 + chars[close + 2..].iter().position(|c| *c == ')')?;
    let text: String = chars[1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    if text.is_empty() || url.is_empty() || url.contains(char::is_whitespace) {
        return None;
    }
    Some((text, url, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_subset() {
        let cases = [
            ("**Bold** and _it_", "<b>Bold</b> and <i>it</i>", "Bold and it"),
            ("a < b & c > d", "a &lt; b &amp; c &gt; d", "a < b & c > d"),
            ("one\ntwo\n\nthree", "one two\n\nthree", "one two\n\nthree"),
            ("Intro:\n- a\n- b\n\nEnd", "Intro:\n• a\n• b\n\nEnd", "Intro:\n• a\n• b\n\nEnd"),
            ("- long\n  item", "• long item", "• long item"),
            (
                "[Find help](https://findtreatment.gov)",
                "<a href=\"https://findtreatment.gov\">Find help</a>",
                "Find help (https://findtreatment.gov)",
            ),
            ("snake_case_name stays", "snake_case_name stays", "snake_case_name stays"),
            ("2 \\* 3", "2 * 3", "2 * 3"),
            ("[not a link] (x)", "[not a link] (x)", "[not a link] (x)"),
        ];
        for (src, html, plain) in cases {
            let r = render(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"));
            assert_eq!(r.html, html, "html of {src:?}");
            assert_eq!(r.plain, plain, "plain of {src:?}");
        }
    }

    #[test]
    fn reports_every_error_with_position() {
        let errors = render("fine\n**open bold\n\n[x](ftp://a)\n_open").unwrap_err();
        let got: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
        assert_eq!(got, vec![(1, 1), (3, 1), (4, 1)]);
        assert!(errors[0].message.contains("bold"));
        assert!(errors[1].message.contains("https://"));
        assert!(errors[2].message.contains("italic"));
    }

    #[test]
    fn crossed_bold_and_italic_is_an_error_not_html_telegram_refuses() {
        // Properly nested either way round renders.
        assert_eq!(render("**_x_**").expect("nested").html, "<b><i>x</i></b>");
        assert_eq!(render("_a **b** c_").expect("nested").html, "<i>a <b>b</b> c</i>");
        // Crossed: an error at the closing marker that would cross, never <b><i>x</b></i>.
        let crossed = render("**_x**_").unwrap_err();
        assert_eq!((crossed[0].line, crossed[0].col), (0, 5));
        assert!(crossed[0].message.contains("close the \"_\" first"), "{}", crossed[0].message);
        let crossed = render("ok _a **b_ c**").unwrap_err();
        assert_eq!((crossed[0].line, crossed[0].col), (0, 10));
        assert!(crossed[0].message.contains("close the \"**\" first"), "{}", crossed[0].message);
    }

    #[test]
    fn counts_like_telegram() {
        assert_eq!(Rich::text("😀a").telegram_len(), 3);
    }
}
