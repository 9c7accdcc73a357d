//! Texts put together from several parts: the whole `/crisis` page and the sources under an
//! answer.

use super::render::{escape_html, Rich};
use super::CrisisTexts;
use crate::text::crisis::{CrisisKind, CrisisSet};

/// The whole `/crisis` page: intro, every block (those of `first` at the top, then the rest,
/// each most urgent first), the note for other countries. Someone who just wrote about
/// suicide reads the 988 block first, not overdose first aid.
pub fn crisis_page(c: &CrisisTexts, first: CrisisSet) -> Rich {
    let mut parts = vec![&c.intro];
    let (mine, rest): (Vec<CrisisKind>, Vec<CrisisKind>) = CrisisKind::ALL.iter().partition(|k| first.contains(**k));
    parts.extend(mine.iter().chain(&rest).map(|k| &c.block(*k).body));
    parts.push(&c.outside_us);
    Rich::join(parts)
}

/// The sources under an answer. In Telegram a folded quote (expanded with a tap) of short
/// linked labels, so that long addresses do not bury the answer on a phone; in plain text
/// (`chat`, `ask`, the fallback when Telegram refuses the HTML) each label with its address.
pub(super) fn sources_block(heading: &str, sources: &[String]) -> Rich {
    if sources.is_empty() {
        return Rich::default();
    }
    let mut plain = heading.to_owned();
    let mut html = format!("<blockquote expandable>{}", escape_html(heading));
    for s in sources {
        plain.push_str("\n• ");
        plain.push_str(s);
        html.push_str("\n• ");
        match split_source(s) {
            Some((label, url)) => html.push_str(&format!("<a href=\"{}\">{}</a>", escape_html(url), escape_html(label))),
            None => html.push_str(&escape_html(s)),
        }
    }
    html.push_str("</blockquote>");
    Rich { html, plain }
}

/// "FDA, Klonopin label (2023): https://..." as its label and its address.
fn split_source(source: &str) -> Option<(&str, &str)> {
    let at = source.rfind(": http")?;
    let (label, url) = (source[..at].trim(), source[at + 2..].trim());
    (!label.is_empty() && !url.contains(char::is_whitespace)).then_some((label, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_fold_into_a_quote_of_short_links_and_stay_whole_in_plain_text() {
        let sources = [
            "FDA, Klonopin label (2023): https://example.org/label.pdf?a=1&b=2".to_owned(),
            "A source with no address".to_owned(),
            "Odd: label: http://example.org/x".to_owned(),
        ];
        let block = sources_block("Sources:", &sources);
        assert_eq!(
            block.html,
            "<blockquote expandable>Sources:\n• <a href=\"https://example.org/label.pdf?a=1&amp;b=2\">FDA, Klonopin label (2023)</a>\n• A source with no address\n• <a href=\"http://example.org/x\">Odd: label</a></blockquote>"
        );
        assert_eq!(block.plain, format!("Sources:\n• {}\n• {}\n• {}", sources[0], sources[1], sources[2]));
        // One paragraph: the splitter never cuts the quote in two.
        assert!(!block.html.contains("\n\n"));
        assert_eq!(sources_block("Sources:", &[]), Rich::default());
    }
}
