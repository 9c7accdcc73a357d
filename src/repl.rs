//! The terminal front ends: `chat` (a conversation) and `ask` (one reply per input line),
//! both driving the same engine as Telegram. Buttons show as numbered options; typing the
//! number presses the button.

use std::io::{self, BufRead, Write};

use serde::Serialize;

use crate::content::ResponseSet;
use crate::engine::{step_in, Input, Message, Next, State, Turn};

/// One conversation: its state, the buttons of the last reply (for number input), and the
/// language tag a Telegram app would send (`es-MX`, `en-GB`), if any.
#[derive(Default)]
pub struct Session {
    pub state: State,
    buttons: Vec<String>,
    pub app_language: Option<String>,
}

impl Session {
    /// Sends one line as a person would type it: a number presses a button of the last reply.
    pub fn send(&mut self, line: &str, content: &ResponseSet) -> Turn {
        let line = line.trim_end_matches(['\r', '\n']);
        let pressed = line.trim().parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| self.buttons.get(i).cloned());
        let app = self.app_language.as_deref();
        let turn = match &pressed {
            Some(data) => step_in(&self.state, &Input::Button(data), content, app),
            None => step_in(&self.state, &Input::from_text(line), content, app),
        };
        self.state = match &turn.next {
            Next::Keep(state) => state.clone(),
            Next::Forget => State::default(),
        };
        self.buttons = turn.messages.iter().flat_map(|m| m.buttons.iter().flatten()).map(|b| b.action.encode()).collect();
        turn
    }
}

/// Numbered button labels, continuing across a reply's messages.
fn print_messages(out: &mut impl Write, messages: &[Message]) -> io::Result<()> {
    let mut n = 0;
    for message in messages {
        writeln!(out, "{}", message.text.plain)?;
        for row in &message.buttons {
            let labels: Vec<String> = row
                .iter()
                .map(|b| {
                    n += 1;
                    format!("[{n}] {}", b.label)
                })
                .collect();
            writeln!(out, "  {}", labels.join("   "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `klonopin-bot chat`: a conversation in the terminal, starting as `/start` does.
pub fn chat(content: &ResponseSet, app_language: Option<&str>, input: impl BufRead, mut out: impl Write) -> io::Result<()> {
    let mut session = Session { app_language: app_language.map(str::to_owned), ..Session::default() };
    let turn = session.send("/start", content);
    print_messages(&mut out, &turn.messages)?;
    write!(out, "> ")?;
    out.flush()?;
    for line in input.lines() {
        let turn = session.send(&line?, content);
        writeln!(out)?;
        print_messages(&mut out, &turn.messages)?;
        write!(out, "> ")?;
        out.flush()?;
    }
    writeln!(out)?;
    Ok(())
}

#[derive(Serialize)]
struct JsonButton<'a> {
    label: &'a str,
    data: String,
}

#[derive(Serialize)]
struct JsonMessage<'a> {
    text: &'a str,
    html: &'a str,
    buttons: Vec<Vec<JsonButton<'a>>>,
}

#[derive(Serialize)]
struct JsonReply<'a> {
    messages: Vec<JsonMessage<'a>>,
    topic: Option<&'a str>,
    crisis: Vec<&'static str>,
    check_in: bool,
    state: &'a State,
}

/// `klonopin-bot ask`: every input line is one message (state carries over, so scripts can
/// walk flows); every reply is one output line, JSON with `--json`.
pub fn ask(content: &ResponseSet, json: bool, app_language: Option<&str>, input: impl BufRead, mut out: impl Write) -> io::Result<()> {
    let mut session = Session { app_language: app_language.map(str::to_owned), ..Session::default() };
    for line in input.lines() {
        let line = line?;
        let turn = session.send(&line, content);
        if json {
            let reply = JsonReply {
                messages: turn
                    .messages
                    .iter()
                    .map(|m| JsonMessage {
                        text: &m.text.plain,
                        html: &m.text.html,
                        buttons: m
                            .buttons
                            .iter()
                            .map(|row| row.iter().map(|b| JsonButton { label: &b.label, data: b.action.encode() }).collect())
                            .collect(),
                    })
                    .collect(),
                topic: turn.topic.as_deref(),
                crisis: turn.crisis.iter().map(|k| k.name()).collect(),
                check_in: turn.check_in,
                state: &session.state,
            };
            let text = serde_json::to_string(&reply).map_err(io::Error::other)?;
            writeln!(out, "{text}")?;
        } else {
            let texts: Vec<String> = turn.messages.iter().map(|m| m.text.plain.replace('\n', "\\n")).collect();
            writeln!(out, "{}", texts.join(" | "))?;
        }
        out.flush()?;
    }
    Ok(())
}
