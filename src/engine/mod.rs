//! The conversation engine: `(state, input, content) -> (new state, replies)`, pure.
//!
//! Every front end (Telegram, `chat`, `ask`) calls [`step`] and nothing else decides what
//! the bot says. The rules, in order:
//! 1. Crisis first: every text (message, caption, command payload; an unknown `/command`
//!    is read as text, name included) goes through the crisis rules and the classifier
//!    ([`reading`]) before anything else, in every state. If it finds a crisis, the first reply is the crisis guidance
//!    (overdose and emergencies first: 911 before anything else).
//! 2. Then the input is handled as usual: a flow in progress keeps its place. A crisis
//!    mention during the self-check shows the guidance, answers the message, and keeps the
//!    self-check where it was with a button to continue. (A "for whom?" question stored by an
//!    older version is answered by a short reply or dropped for the new message.)
//! 3. A topic that carries a crisis kind opens its answer with that guidance (once per
//!    reply). A block the reply before showed comes back as its shorter `again` version.
//! 4. Answers come first: a topic with a version for someone asking about a person they care
//!    about shows the version that fits, the other one a button away. A typed question that
//!    leads back to the answer just given gets "that leads me back to ..." and other likely
//!    topics instead of the same text; after crisis guidance, unsure guesses are buttons
//!    under it.
//!
//! `step` cannot fail: unknown buttons, stale flows and removed topics lead to the menu.

mod action;
pub mod reading;
mod state;

pub use action::Action;
pub use state::{Flow, State};

use crate::content::IntentTarget;
use crate::content::{crisis_page, CrisisTexts, RegionTexts, ResponseSet, Rich, Topic, SELF_CHECK_QUESTIONS};
use crate::text::audience::{audience_cue, Audience};
use crate::text::crisis::{CrisisKind, CrisisSet};
use crate::text::model::Scores;
use crate::text::normalize::normalize;
use crate::text::place::mentioned_place;
use crate::text::topics::MAX_SUGGESTIONS;
use reading::{crisis_of, read, Route};

/// Topics offered under "I have just answered that": the likeliest others, then related ones.
const MAX_OFFERED_AFTER_REPEAT: usize = 4;

/// What a person sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    Text(&'a str),
    /// `/name payload` (the payload may be empty).
    Command {
        name: &'a str,
        payload: &'a str,
    },
    /// A tapped button's callback data.
    Button(&'a str),
    /// A photo, sticker, voice message, file or location; with its caption if any.
    NonText {
        caption: Option<&'a str>,
    },
}

impl<'a> Input<'a> {
    /// Reads a typed line: `/cmd@bot payload` is a command, anything else text.
    pub fn from_text(text: &'a str) -> Input<'a> {
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix('/') {
            let (head, payload) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let (name, target) = head.split_once('@').unwrap_or((head, ""));
            let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            // `@bot` after a command names a bot; after anything else (or when it could not be
            // a username) it is part of the message, which is then read whole: the fuzzer found
            // "/ufo@...suicide..." losing everything after the `@`.
            let addressed = target.is_empty() || (plain(target) && Command::parse(name).is_some());
            if !name.is_empty() && plain(name) && addressed {
                return Input::Command { name, payload: payload.trim() };
            }
        }
        Input::Text(text)
    }
}

/// One message to send: text and rows of buttons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: Rich,
    pub buttons: Vec<Vec<Button>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub action: Action,
}

/// What the stored state becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Keep(State),
    /// `/forget`: delete everything stored for this chat.
    Forget,
}

/// The small-talk intent for messages about something else (`responses/examples/smalltalk/`).
pub const OFF_TOPIC: &str = "off-topic";

/// Something worth counting (for statistics; never any text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    TopicServed(String),
    DidYouMean,
    Fallback,
    Crisis(CrisisKind),
    SelfCheckStarted,
    SelfCheckCompleted,
    Forgotten,
}

/// The engine's answer to one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub next: Next,
    pub messages: Vec<Message>,
    /// The topic answered, if any.
    pub topic: Option<String>,
    /// Every crisis kind whose guidance this turn shows.
    pub crisis: CrisisSet,
    /// Whether the turn opens with the check-in question.
    pub check_in: bool,
    pub events: Vec<Event>,
}

/// Handles one input.
pub fn step(state: &State, input: &Input, content: &ResponseSet) -> Turn {
    step_in(state, input, content, None)
}

/// [`step`] for a person whose app is set to `app_language` (Telegram's `language_code`,
/// such as `es-MX` or `en-GB`). It suggests the language of the replies (where the content
/// has a translation) and a country ([`step_hinted`]). The chat's language is, in order:
/// the one a person chose (/language, a button) or last wrote in, stored in the state; the
/// app's; the folder's own. A typed message whose words show another language clearly is
/// answered in it, which becomes the chat's language, with a one-tap switch back.
pub fn step_in(state: &State, input: &Input, content: &ResponseSet, app_language: Option<&str>) -> Turn {
    let country = app_language.and_then(country_of_language);
    let suggested = app_language.and_then(|tag| content.language_of_tag(tag)).unwrap_or(&content.language);
    let chosen = state.language.as_deref().and_then(|l| content.languages().find(|s| s.language == l)).map_or(suggested, |s| &s.language);
    let typed = match input {
        Input::Text(text) | Input::NonText { caption: Some(text) } => Some(*text),
        _ => None,
    };
    let written = typed
        .and_then(|t| crate::text::language::written_in(t, &normalize(t)))
        .and_then(|code| content.languages().find(|s| s.language == code))
        .map(|s| s.language.as_str());
    let picked = match input {
        Input::Button(data) => match Action::decode(data) {
            Some(Action::Language(code)) => content.languages().find(|s| s.language == code).map(|s| s.language.as_str()),
            _ => None,
        },
        _ => None,
    };
    let language = picked.or(written).unwrap_or(chosen);
    let mut state = state.clone();
    // Stored only where it differs from what the app suggests: most chats store nothing.
    state.language = (language != suggested).then(|| language.to_owned());
    let mut turn = run(&state, input, content, language, country.as_deref());
    if written.is_some_and(|w| w != chosen) {
        // The reply changed language because of how the person wrote: the old one is a tap away.
        let back = content.in_language(chosen);
        if let (Some(last), Some(texts)) = (turn.messages.last_mut(), &back.bot.language) {
            last.buttons.push(vec![Button { label: texts.name.clone(), action: Action::Language(chosen.to_owned()) }]);
        }
    }
    turn
}

/// [`step`], with the country the person's app suggests (Telegram's `language_code`, such
/// as `en-GB`: see [`country_of_language`]). Only a hint: a chat that chose no country gets a
/// button with that country's numbers under crisis guidance, never a silent switch.
pub fn step_hinted(state: &State, input: &Input, content: &ResponseSet, country_hint: Option<&str>) -> Turn {
    let language = state.language.as_deref().unwrap_or(&content.language);
    run(state, input, content, language, country_hint)
}

/// One input, answered with the texts of `language` (one of `root`'s languages).
fn run(state: &State, input: &Input, root: &ResponseSet, language: &str, country_hint: Option<&str>) -> Turn {
    let content = root.in_language(language);
    let mut ctx = Ctx::new(content, state.clone());
    ctx.root = root;
    ctx.country_hint = country_hint.filter(|c| content.other_region(c).is_some()).map(str::to_owned);
    let was_in_self_check = matches!(state.flow, Flow::SelfCheck { .. });
    if matches!(ctx.state.flow, Flow::Audience { .. }) && !matches!(input, Input::Button(_)) {
        // A new message answers the pending "for whom?" question or replaces it.
        if let Flow::Audience { topic } = std::mem::take(&mut ctx.state.flow) {
            if let Input::Text(text) = input {
                let normalized = normalize(text);
                // A crisis is never taken as an answer: it goes through the crisis rule below.
                let calm = crisis_of(&normalized, content).is_empty();
                if let Some(audience) = audience_reply(&normalized).filter(|_| calm) {
                    ctx.state.audience = Some(audience);
                    ctx.topic_by_id(&topic);
                    return ctx.finish(was_in_self_check);
                }
            }
        }
    }
    match input {
        Input::Text(text) => ctx.on_text(text),
        Input::NonText { caption: Some(caption) } if !caption.trim().is_empty() => ctx.on_text(caption),
        Input::NonText { .. } => {
            let text = ctx.content.bot.non_text.clone();
            ctx.menu_with(text);
        }
        Input::Command { name, payload } => ctx.on_command(name, payload),
        Input::Button(data) => match Action::decode(data) {
            Some(action) => ctx.on_action(action),
            None => ctx.menu(),
        },
    }
    ctx.finish(was_in_self_check)
}

/// Crisis guidance for a message the bot overheard (in a group, not addressed to it), or
/// `None` if it mentions no crisis. Nothing else in it is answered: in a group the bot speaks
/// unasked only when someone may be in danger. No state is involved; the turn's `next` is
/// the start state and a caller stores nothing for it.
pub fn overheard(text: &str, content: &ResponseSet) -> Option<Turn> {
    overheard_in(text, content, None)
}

/// [`overheard`] in a group that chose a country (`region`, from its stored state). A
/// country the message itself places the writer in ("i'm in the uk") wins for this reply;
/// nothing is stored.
pub fn overheard_in(text: &str, content: &ResponseSet, region: Option<&str>) -> Option<Turn> {
    let normalized = normalize(text);
    let kinds = crisis_of(&normalized, content);
    if kinds.is_empty() {
        return None;
    }
    // A group has no language of its own: the guidance comes in the message's, if it shows one.
    let root = content;
    let content = crate::text::language::written_in(text, &normalized).map_or(content, |l| content.in_language(l));
    let state = State { region: region.map(str::to_owned), ..State::default() };
    let mut ctx = Ctx::new(content, state);
    ctx.root = root;
    ctx.notice_region(&normalized, false, false);
    ctx.crisis_first(kinds);
    Some(ctx.turn)
}

/// The commands the engine knows, with the aliases people type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Start,
    Help,
    Menu,
    Crisis,
    SelfCheck,
    Cancel,
    Privacy,
    About,
    Forget,
    Region,
    Language,
}

impl Command {
    fn parse(name: &str) -> Option<Command> {
        Some(match name.to_ascii_lowercase().as_str() {
            "start" => Command::Start,
            "help" => Command::Help,
            "topics" | "menu" => Command::Menu,
            "crisis" | "help_now" | "sos" => Command::Crisis,
            "selfcheck" | "self_check" => Command::SelfCheck,
            "cancel" | "stop" => Command::Cancel,
            "privacy" => Command::Privacy,
            "about" => Command::About,
            "forget" => Command::Forget,
            "region" | "country" => Command::Region,
            "language" | "lang" | "idioma" => Command::Language,
            _ => return None,
        })
    }
}

struct Ctx<'c> {
    /// The texts in the chat's language.
    content: &'c ResponseSet,
    /// The folder's set, with every language (for the language picker).
    root: &'c ResponseSet,
    state: State,
    turn: Turn,
    forget: bool,
    /// This turn told the person that the answer they asked for is the one just given.
    repeated: bool,
    crisis_page_shown: bool,
    /// A country the person's app suggests (a known region other than the default).
    country_hint: Option<String>,
    /// The message says the writer is in a country without numbers in the files.
    elsewhere_named: bool,
}

/// The key [`mentioned_place`] gives a country without a file (`[region] elsewhere`): no
/// region's code is empty.
const ELSEWHERE: &str = "";

impl<'c> Ctx<'c> {
    fn new(content: &'c ResponseSet, state: State) -> Ctx<'c> {
        let turn = Turn {
            next: Next::Keep(State::default()),
            messages: Vec::new(),
            topic: None,
            crisis: CrisisSet::default(),
            check_in: false,
            events: Vec::new(),
        };
        Ctx {
            content,
            root: content,
            state,
            turn,
            forget: false,
            repeated: false,
            crisis_page_shown: false,
            country_hint: None,
            elsewhere_named: false,
        }
    }

    fn finish(mut self, was_in_self_check: bool) -> Turn {
        self.close_with_help_now();
        // The /crisis page shows every block in full; it does not make the next one shorter.
        self.state.last_crisis = if self.crisis_page_shown { CrisisSet::default() } else { self.turn.crisis };
        self.state.asked_check_in = self.turn.check_in;
        if self.turn.topic.is_some() {
            self.state.last_topic.clone_from(&self.turn.topic);
        } else if !self.repeated {
            self.state.last_topic = None;
        }
        if let Flow::SelfCheck { .. } = self.state.flow {
            let asking = self
                .turn
                .messages
                .last()
                .is_some_and(|m| m.buttons.iter().flatten().any(|b| matches!(b.action, Action::SelfCheckAnswer { .. })));
            if was_in_self_check && !asking {
                let label = self.content.selfcheck.resume.clone();
                if let Some(last) = self.turn.messages.last_mut() {
                    last.buttons.insert(0, vec![Button { label, action: Action::SelfCheckResume }]);
                }
            }
        }
        self.turn.next = if self.forget { Next::Forget } else { Next::Keep(self.state) };
        self.turn
    }

    /// Ends a reply that shows no crisis guidance with the `help_now` line, so that a crisis
    /// put in words the detector does not know still meets 911, 988 and SAMHSA. Not under a
    /// self-check question: it is one tap from the result.
    fn close_with_help_now(&mut self) {
        if !self.turn.crisis.is_empty() {
            return;
        }
        let help_now = self.help_now_text();
        let Some(last) = self.turn.messages.last_mut() else { return };
        let asking = last.buttons.iter().flatten().any(|b| matches!(b.action, Action::SelfCheckAnswer { .. }));
        if !asking {
            last.text = Rich::join([&last.text, help_now]);
        }
    }

    fn send(&mut self, text: Rich, buttons: Vec<Vec<Button>>) {
        self.turn.messages.push(Message { text, buttons });
    }

    fn menu_button(&self) -> Vec<Button> {
        vec![Button { label: self.content.bot.button_menu.clone(), action: Action::Menu }]
    }

    fn topic_buttons<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> Vec<Vec<Button>> {
        ids.into_iter()
            .filter_map(|id| self.content.topic(id))
            .map(|t| vec![Button { label: t.title.clone(), action: Action::Topic(t.id.clone()) }])
            .collect()
    }

    fn menu(&mut self) {
        let text = self.content.bot.menu_prompt.clone();
        self.menu_with(text);
    }

    /// A text followed by the main menu's buttons.
    fn menu_with(&mut self, text: Rich) {
        let bot = &self.content.bot;
        let mut buttons = self.topic_buttons(&bot.menu);
        buttons.push(vec![Button { label: bot.button_selfcheck.clone(), action: Action::SelfCheckStart }]);
        buttons.push(vec![Button { label: bot.button_crisis.clone(), action: Action::Crisis }]);
        self.send(text, buttons);
    }

    /// Crisis guidance for the kinds found in what the person wrote, as the first message.
    fn crisis_first(&mut self, kinds: CrisisSet) {
        if kinds.is_empty() {
            return;
        }
        let crisis = self.crisis_texts();
        let text = self.blocks_text(kinds);
        let mut topics: Vec<&String> = Vec::new();
        for kind in kinds.iter() {
            for id in &crisis.block(kind).topics {
                if !topics.contains(&id) {
                    topics.push(id);
                }
            }
        }
        let mut buttons = self.topic_buttons(topics);
        buttons.extend(self.region_row());
        buttons.push(self.menu_button());
        self.send(text, buttons);
        self.mark_crisis(kinds);
    }

    /// The chosen region's texts, when a chat chose one other than the default.
    fn regional(&self) -> Option<&'c RegionTexts> {
        self.state.region.as_deref().and_then(|code| self.content.other_region(code))
    }

    /// The crisis texts with the chat's numbers.
    fn crisis_texts(&self) -> &'c CrisisTexts {
        self.regional().map_or(&self.content.crisis, |r| &r.crisis)
    }

    fn help_now_text(&self) -> &'c Rich {
        self.regional().map_or(&self.content.bot.help_now, |r| &r.help_now)
    }

    /// "The phone numbers in this answer are American", under a text that gives them, once
    /// a chat chose another country.
    fn us_numbers_note(&self, text: &Rich) -> Option<&'c Rich> {
        self.regional().filter(|_| gives_us_numbers(&text.plain)).map(|r| &r.us_numbers)
    }

    /// "Numbers for another country", under crisis guidance (when there is a choice).
    fn region_row(&self) -> Option<Vec<Button>> {
        let choice = self.content.region_choice.as_ref()?;
        let mut row = Vec::new();
        // The app says "en-GB" and the chat chose nothing: that country's numbers, one tap away.
        if self.state.region.is_none() {
            if let Some(hinted) = self.country_hint.as_deref().and_then(|c| self.content.other_region(c)) {
                row.push(Button { label: capitalized(&hinted.region.name), action: Action::Region(hinted.region.code.clone()) });
            }
        }
        row.push(Button { label: choice.button.clone(), action: Action::Regions });
        Some(row)
    }

    /// "Which country are you in?" and a button per country, two to a row.
    fn region_picker(&mut self) {
        let Some(choice) = &self.content.region_choice else {
            self.crisis_page();
            return;
        };
        let mut buttons: Vec<Vec<Button>> = self
            .content
            .regions
            .chunks(2)
            .map(|pair| {
                pair.iter().map(|r| Button { label: capitalized(&r.region.name), action: Action::Region(r.region.code.clone()) }).collect()
            })
            .collect();
        buttons.push(vec![Button { label: choice.other_button.clone(), action: Action::OtherRegion }]);
        buttons.push(self.menu_button());
        self.send(choice.prompt.clone(), buttons);
    }

    /// Keeps a chat's country (`None`: the default) and shows its numbers.
    fn choose_region(&mut self, code: &str) {
        let known = self.content.regions.iter().position(|r| r.region.code == code);
        match known {
            Some(0) => self.state.region = None,
            Some(_) => self.state.region = Some(code.to_owned()),
            None => {
                // Not in the list: the default numbers (with their note for other countries)
                // rather than a country the person just said they are not in.
                self.state.region = None;
                let Some(choice) = &self.content.region_choice else { return self.crisis_page() };
                let text = choice.other.clone();
                let mut buttons = vec![vec![Button { label: self.content.bot.button_crisis.clone(), action: Action::Crisis }]];
                buttons.push(self.menu_button());
                self.send(text, buttons);
                return;
            }
        }
        self.crisis_page();
    }

    /// A country the message names ("i'm in the uk"): kept for the chat. A message that is
    /// only that is a choice, answered with that country's numbers, when `may_choose`;
    /// returns whether it was. `unsure` (the check-in band) keeps a country without a file
    /// from being the whole reply: its answer has no numbers of its own, the question does.
    fn notice_region(&mut self, normalized: &str, may_choose: bool, unsure: bool) -> bool {
        let Some((code, whole)) = self.place(normalized) else { return false };
        if whole && may_choose && !(unsure && code == ELSEWHERE) {
            self.choose_region(code);
            return true;
        }
        if code == ELSEWHERE {
            // The default numbers, with a word that they are not that country's.
            self.state.region = None;
            self.elsewhere_named = true;
            return false;
        }
        let default = self.content.regions.first().is_some_and(|r| r.region.code == code);
        self.state.region = if default { None } else { Some(code.to_owned()) };
        false
    }

    /// After a message that named a country without numbers in the files ("estoy en
    /// mexico, a quien llamo?"): a word that the numbers given are not that country's.
    fn note_elsewhere(&mut self) {
        if self.elsewhere_named {
            if let Some(choice) = &self.content.region_choice {
                self.send(choice.other.clone(), Vec::new());
            }
        }
    }

    /// The country (or [`ELSEWHERE`]) a message places its writer in, and whether the
    /// message is only that.
    fn place(&self, normalized: &str) -> Option<(&'c str, bool)> {
        let regions = self.content.regions.iter().map(|r| (r.region.code.as_str(), r.region.names.as_slice()));
        let elsewhere = self.root.region_choice.iter().map(|c| (ELSEWHERE, c.elsewhere.as_slice()));
        mentioned_place(normalized, regions.chain(elsewhere))
    }

    /// The crisis blocks for `kinds`, most urgent first: each whole, or its shorter `again`
    /// version when the reply before showed it (someone in withdrawal writing five messages
    /// reads it once); the note for other countries comes with the whole blocks.
    fn blocks_text(&self, kinds: CrisisSet) -> Rich {
        let crisis = self.crisis_texts();
        let shown_before = |k: CrisisKind| self.state.last_crisis.contains(k);
        let mut parts: Vec<&Rich> =
            kinds.iter().map(|k| if shown_before(k) { &crisis.block(k).again } else { &crisis.block(k).body }).collect();
        if !kinds.iter().all(shown_before) {
            parts.push(&crisis.outside_us);
        }
        Rich::join(parts)
    }

    /// "Main menu" and "Get help now": the last row under every answer.
    fn menu_and_help_row(&self) -> Vec<Button> {
        let mut row = self.menu_button();
        row.push(Button { label: self.content.bot.button_crisis.clone(), action: Action::Crisis });
        row
    }

    /// The calm question for a message that may describe a crisis: "yes" opens the /crisis
    /// page, "no" the menu; the answer, if any, follows this message.
    fn check_in(&mut self) {
        let Some(check_in) = &self.content.bot.check_in else { return };
        let buttons = vec![vec![
            Button { label: check_in.yes.clone(), action: Action::Crisis },
            Button { label: check_in.no.clone(), action: Action::Menu },
        ]];
        self.send(check_in.question.clone(), buttons);
        self.turn.check_in = true;
    }

    fn mark_crisis(&mut self, kinds: CrisisSet) {
        for kind in kinds.iter() {
            if !self.turn.crisis.contains(kind) {
                self.turn.events.push(Event::Crisis(kind));
            }
        }
        self.turn.crisis = self.turn.crisis.union(kinds);
    }

    fn on_text(&mut self, text: &str) {
        let normalized = normalize(text);
        let reading = read(&normalized, self.content);
        // "yes", "yes please help", "sí", "no" typed under the check-in question answer it,
        // as its buttons do (a crisis the words name is still read as one).
        if self.state.asked_check_in && reading.crisis.is_empty() {
            match check_in_reply(&normalized) {
                Some(true) => return self.crisis_page(),
                Some(false) => return self.menu(),
                None => {}
            }
        }
        // "who do i actually call?" right after crisis guidance asks for its numbers, not for
        // the treatment topic (a walk-through found that): the /crisis page, those kinds first.
        if !self.state.last_crisis.is_empty() && reading.crisis.is_empty() && asks_whom_to_call(&normalized) {
            // "estoy en mexico, a quien llamo?": that country's page, or a word that these
            // numbers are not its.
            self.notice_region(&normalized, false, false);
            self.crisis_page();
            self.note_elsewhere();
            return;
        }
        // "uk" or "i live in australia" alone chooses the numbers, unless it is a crisis
        // (then the guidance, with that country's numbers, comes first as always). In the
        // check-in band too ("im in spain" scored there): the reply is that country's
        // crisis page, every number the calm question's "yes" would have led to.
        let may_choose = reading.crisis.is_empty() && !matches!(self.state.flow, Flow::SelfCheck { .. });
        if self.notice_region(&normalized, may_choose, reading.check_in) {
            return;
        }
        let kinds = reading.crisis;
        self.crisis_first(kinds);
        if reading.check_in {
            self.check_in();
        }
        self.note_elsewhere();
        if let Flow::SelfCheck { next, .. } = self.state.flow {
            if let Some(yes) = yes_no(&normalized) {
                self.answer_self_check(next, yes);
                return;
            }
        }
        let cue = audience_cue(&normalized);
        let says_who = cue.is_some() && cue != self.state.audience;
        if cue.is_some() {
            self.state.audience = cue;
        }
        match reading.route {
            // The check-in question is the reply: a greeting or a fallback under it would
            // read as if the bot had not listened.
            Route::SmallTalk(_) | Route::NoMatch if reading.check_in => {}
            // A follow-up that leads back to the answer just given ("and for 2 mg?"): the
            // same text again would read as if the bot had not listened. A message that
            // says for whom ("it's for my son") gets that version instead.
            Route::Topic(index) if !says_who && self.state.last_topic.as_deref() == Some(self.content.topics[index].id.as_str()) => {
                self.repeat(index, reading.scores.as_ref());
            }
            Route::Topic(index) => self.topic(&self.content.topics[index]),
            Route::SmallTalk(name) => {
                // "I only know about Klonopin" answered nothing: operators who record
                // unmatched questions (and the fallback metric) should see it.
                if name == OFF_TOPIC && kinds.is_empty() {
                    self.turn.events.push(Event::Fallback);
                }
                let reply = self.content.bot.smalltalk.iter().find(|(n, _)| *n == name).map(|(_, r)| r.clone());
                match reply {
                    // After crisis guidance a small-talk line ("I only know about Klonopin",
                    // "You're welcome") would read as if the bot had not listened: the
                    // guidance is the reply.
                    _ if !kinds.is_empty() => {}
                    Some(text) => self.menu_with(text),
                    None => self.menu(),
                }
            }
            // Crisis guidance is the reply: the topics the message may be about go under it
            // as buttons (before its own), one tap away without pushing it up the screen.
            Route::DidYouMean(picks) if !kinds.is_empty() => {
                let ids: Vec<String> = picks.iter().map(|i| self.content.topics[*i].id.clone()).collect();
                let mut rows = self.topic_buttons(&ids);
                if let Some(guidance) = self.turn.messages.first_mut() {
                    guidance.buttons.retain(|row| !rows.contains(row));
                    rows.append(&mut guidance.buttons);
                    guidance.buttons = rows;
                }
            }
            Route::DidYouMean(picks) => {
                let ids: Vec<String> = picks.iter().map(|i| self.content.topics[*i].id.clone()).collect();
                let mut buttons = self.topic_buttons(&ids);
                buttons.push(self.menu_button());
                self.send(self.content.bot.did_you_mean.clone(), buttons);
                self.turn.events.push(Event::DidYouMean);
            }
            Route::NoMatch if kinds.is_empty() => {
                let text = self.content.bot.fallback.clone();
                self.menu_with(text);
                self.turn.events.push(Event::Fallback);
            }
            // The crisis guidance already answers the message.
            Route::NoMatch => {}
        }
    }

    fn on_command(&mut self, name: &str, payload: &str) {
        let Some(command) = Command::parse(name) else {
            // "/overdose", "/withdrawal_help", "/dosage": a slash before the words someone
            // hoped were a command. Read them as the message they are, crisis rule first.
            let text = format!("{} {payload}", name.replace('_', " "));
            self.on_text(&text);
            return;
        };
        // Deep-link payloads use hyphens and underscores for spaces.
        let payload_text = payload.replace(['-', '_'], " ");
        let kinds = crisis_of(&normalize(&payload_text), self.content);
        self.crisis_first(kinds);
        let bot = &self.content.bot;
        let regional = self.regional();
        match command {
            Command::Start => {
                self.state.flow = Flow::Idle;
                match self.content.topic(payload) {
                    Some(topic) => self.topic(topic),
                    None => {
                        let text = regional.map_or(&bot.greeting, |r| &r.greeting).clone();
                        self.menu_with(text);
                        // The app says "en-GB": that country's numbers are one tap away from
                        // the first message, never switched on their own.
                        let hinted = self.country_hint.as_deref().and_then(|c| self.content.other_region(c));
                        if let Some(hinted) = hinted.filter(|_| self.state.region.is_none()) {
                            let button =
                                Button { label: capitalized(&hinted.region.name), action: Action::Region(hinted.region.code.clone()) };
                            if let Some(greeting) = self.turn.messages.last_mut() {
                                greeting.buttons.push(vec![button]);
                            }
                        }
                    }
                }
            }
            Command::Help => self.send(regional.map_or(&bot.help, |r| &r.help).clone(), vec![self.menu_button()]),
            Command::Menu => self.menu(),
            Command::Crisis => self.crisis_page(),
            Command::SelfCheck => self.start_self_check(),
            Command::Cancel => {
                self.state.flow = Flow::Idle;
                let text = bot.cancelled.clone();
                self.menu_with(text);
            }
            Command::Privacy => self.send(bot.privacy.clone(), vec![self.menu_button()]),
            Command::About => self.send(regional.map_or(&bot.about, |r| &r.about).clone(), vec![self.menu_button()]),
            Command::Region => match self.place(&normalize(payload)) {
                Some((code, _)) => self.choose_region(code),
                None => self.region_picker(),
            },
            Command::Language => self.language_picker(),
            Command::Forget => {
                self.state = State::default();
                self.forget = true;
                self.send(bot.forgotten.clone(), Vec::new());
                self.turn.events.push(Event::Forgotten);
            }
        }
    }

    fn on_action(&mut self, action: Action) {
        match action {
            Action::Topic(id) => self.topic_by_id(&id),
            Action::Menu => self.menu(),
            Action::Crisis => self.crisis_page(),
            Action::Audience(audience, id) => {
                self.state.audience = Some(audience);
                if matches!(self.state.flow, Flow::Audience { .. }) {
                    self.state.flow = Flow::Idle;
                }
                self.topic_by_id(&id);
            }
            Action::SelfCheckStart => self.start_self_check(),
            Action::SelfCheckAnswer { question, yes } => match self.state.flow {
                Flow::SelfCheck { next, .. } if next == question => self.answer_self_check(next, yes),
                // A second tap on an answered question: show where we are instead.
                Flow::SelfCheck { next, .. } => self.ask_question(next),
                _ => self.menu(),
            },
            Action::SelfCheckResume => match self.state.flow {
                Flow::SelfCheck { next, .. } => self.ask_question(next),
                _ => self.menu(),
            },
            Action::Regions => self.region_picker(),
            Action::Region(code) => self.choose_region(&code),
            // Not a code of any region: the advice for other countries.
            Action::OtherRegion => self.choose_region("*"),
            Action::Languages => self.language_picker(),
            // `step_in` has already switched the texts to it.
            Action::Language(_) => self.menu(),
        }
    }

    /// "Which language?": one button per language, each named in itself.
    fn language_picker(&mut self) {
        let Some(texts) = &self.content.bot.language else {
            self.menu();
            return;
        };
        let root = self.root;
        let buttons = root
            .languages()
            .filter_map(|s| {
                s.bot.language.as_ref().map(|l| vec![Button { label: l.name.clone(), action: Action::Language(s.language.clone()) }])
            })
            .collect();
        self.send(texts.prompt.clone(), buttons);
    }

    fn crisis_page(&mut self) {
        self.crisis_page_shown = true;
        // The kinds the reply before showed come first (the 988 block for someone who wrote
        // about suicide, not overdose first aid).
        let text = crisis_page(self.crisis_texts(), self.state.last_crisis);
        let mut buttons: Vec<Vec<Button>> = self.region_row().into_iter().collect();
        buttons.push(self.menu_button());
        self.send(text, buttons);
        self.mark_crisis(CrisisKind::ALL.into_iter().collect());
    }

    fn topic_by_id(&mut self, id: &str) {
        match self.content.topic(id) {
            Some(topic) => self.topic(topic),
            // The topic was removed since this button or state was made.
            None => self.menu(),
        }
    }

    /// Answers a topic: its crisis guidance first (if it carries one not shown yet), then the
    /// version for the person asking. Where a topic has a version for someone asking about
    /// a person they care about, the answer comes first and the other version is one tap
    /// away: nothing (a child's Poison Help advice least of all) waits behind a question.
    fn topic(&mut self, topic: &Topic) {
        let carried = topic.crisis.filter(|k| !self.turn.crisis.contains(*k));
        let crisis_block = carried.map(|k| self.blocks_text(std::iter::once(k).collect()));
        let bot = &self.content.bot;
        // The chosen country's version of a topic that gives numbers.
        let (own, own_loved_one) = self
            .state
            .region
            .as_deref()
            .and_then(|code| self.content.regions.iter().position(|r| r.region.code == code))
            .and_then(|i| topic.regional.get(i))
            .map_or((&topic.answer, topic.answer_loved_one.as_ref()), |(a, lo)| (a, lo.as_ref()));
        let (answer, other) = match (own_loved_one, self.state.audience) {
            (Some(loved), Some(Audience::LovedOne)) => (loved, Some((Audience::Myself, &bot.audience_self))),
            (Some(_), _) => (own, Some((Audience::LovedOne, &bot.audience_loved_one))),
            (None, _) => (own, None),
        };
        // An answer written with American numbers, read in another country: that country's
        // numbers right under it.
        // (Not under a version written with that country's numbers: its sources may still
        // name 988.)
        let us_note = if topic.regional.is_empty() { self.us_numbers_note(answer) } else { None };
        let text = Rich::join(crisis_block.iter().chain([answer]).chain(us_note));
        let mut buttons = Vec::new();
        if let Some((audience, label)) = other {
            buttons.push(vec![Button { label: label.clone(), action: Action::Audience(audience, topic.id.clone()) }]);
        }
        buttons.extend(self.topic_buttons(&topic.related));
        // Help stays one tap away under every answer, whatever the message looked like.
        buttons.push(self.menu_and_help_row());
        self.send(text, buttons);
        if let Some(kind) = carried {
            self.mark_crisis(std::iter::once(kind).collect());
        }
        self.turn.topic = Some(topic.id.clone());
        self.turn.events.push(Event::TopicServed(topic.id.clone()));
    }

    /// The reply to a typed question that leads to the answer just given: say so, and offer
    /// the other topics the question may be about (the classifier's next guesses, then the
    /// topic's related ones). Without a `repeat` text the answer is simply sent again.
    fn repeat(&mut self, index: usize, scores: Option<&Scores>) {
        let topic = &self.content.topics[index];
        let Some(repeat) = &self.content.bot.repeat else {
            self.topic(topic);
            return;
        };
        let mut ids: Vec<&String> = Vec::new();
        if let Some(scores) = scores {
            let floor = self.content.bot.thresholds.suggest;
            for (intent, p) in &scores.intents {
                if let (true, Some(IntentTarget::Topic(i))) = (*p >= floor, self.content.intents.get(*intent)) {
                    let id = &self.content.topics[*i].id;
                    if *i != index && !ids.contains(&id) && ids.len() < MAX_SUGGESTIONS {
                        ids.push(id);
                    }
                }
            }
        }
        for id in &topic.related {
            if ids.len() < MAX_OFFERED_AFTER_REPEAT && !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut buttons = self.topic_buttons(ids);
        buttons.push(self.menu_and_help_row());
        self.send(repeat.fill("title", &topic.title), buttons);
        self.repeated = true;
    }

    fn start_self_check(&mut self) {
        self.state.flow = Flow::SelfCheck { next: 0, yes: 0 };
        self.send(self.content.selfcheck.intro.clone(), Vec::new());
        self.ask_question(0);
        self.turn.events.push(Event::SelfCheckStarted);
    }

    fn ask_question(&mut self, index: u8) {
        let sc = &self.content.selfcheck;
        let Some(question) = sc.questions.get(usize::from(index)) else {
            self.state.flow = Flow::Idle;
            self.menu();
            return;
        };
        let progress = sc.progress.fill("n", &(usize::from(index) + 1).to_string()).fill("total", &sc.questions.len().to_string());
        let buttons = vec![vec![
            Button { label: sc.yes.clone(), action: Action::SelfCheckAnswer { question: index, yes: true } },
            Button { label: sc.no.clone(), action: Action::SelfCheckAnswer { question: index, yes: false } },
        ]];
        self.send(Rich::join([&progress, question]), buttons);
    }

    fn answer_self_check(&mut self, question: u8, yes: bool) {
        let Flow::SelfCheck { yes: mut bits, .. } = self.state.flow else { return };
        if yes {
            bits |= 1 << question;
        }
        let next = question + 1;
        if usize::from(next) < self.content.selfcheck.questions.len().min(SELF_CHECK_QUESTIONS) {
            self.state.flow = Flow::SelfCheck { next, yes: bits };
            self.ask_question(next);
            return;
        }
        self.state.flow = Flow::Idle;
        let count = bits.count_ones() as usize;
        let bands = &self.content.selfcheck.bands;
        match bands.iter().position(|b| b.min <= count && count <= b.max) {
            Some(index) => {
                let band = &bands[index];
                let mut buttons = self.topic_buttons(&band.topics);
                buttons.push(self.menu_button());
                // The chosen country's numbers, as in the crisis blocks.
                let own = self.regional().and_then(|r| r.bands.get(index)).unwrap_or(&band.text);
                let text = Rich::join([own].into_iter().chain(self.us_numbers_note(own)));
                self.send(text, buttons);
            }
            None => self.menu(),
        }
        self.turn.events.push(Event::SelfCheckCompleted);
    }
}

/// The country part of a language tag ("en-GB", "pt_br" -> "gb", "br"), if it has one.
pub fn country_of_language(tag: &str) -> Option<String> {
    let country = tag.split(['-', '_']).nth(1)?;
    (country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())).then(|| country.to_ascii_lowercase())
}

/// Whether a text gives an American phone number (911, 988, a 1-800 line).
fn gives_us_numbers(plain: &str) -> bool {
    ["911", "988", "1-800-", "1-888-", "1-877-", "1-866-"].iter().any(|n| plain.contains(n))
}

/// "the United Kingdom" as a button label: "The United Kingdom".
fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// "yes" / "no" typed instead of tapped.
/// A short typed answer to the check-in question: "yes", "yes please help", "yeah my
/// flatmate", "si ayuda" (yes); "no", "nope", "no im ok" (no).
fn check_in_reply(normalized: &str) -> Option<bool> {
    let words: Vec<&str> = normalized.split(' ').collect();
    let first = *words.first()?;
    if words.len() > 6 {
        return None;
    }
    match (yes_no(first), first) {
        (Some(answer), _) => Some(answer),
        (None, "please" | "help" | "ayuda" | "ayudame" | "yess" | "yea" | "sii" | "claro" | "correct" | "definitely") => Some(true),
        _ => yes_no(normalized),
    }
}

/// A question for a number to call: "who do i call", "what number", "a quien llamo".
fn asks_whom_to_call(normalized: &str) -> bool {
    const ASKS: &[&str] = &[
        " who do i call ",
        " who should i call ",
        " who can i call ",
        " who do we call ",
        " who to call ",
        " what number ",
        " which number ",
        " what do i call ",
        " what do i dial ",
        " a quien llamo ",
        " a quien puedo llamar ",
        " a quien debo llamar ",
        " a quien hay que llamar ",
        " que numero ",
        " cual es el numero ",
        " a que numero ",
    ];
    let padded = format!(" {normalized} ");
    // "who do i actually call", "who do i even call"
    let padded = padded.replace(" actually ", " ").replace(" even ", " ").replace(" now ", " ");
    ASKS.iter().any(|a| padded.contains(a))
}

/// A bare yes or no (a self-check answer, a reply to a question): no crisis by itself.
pub(crate) fn yes_no(normalized: &str) -> Option<bool> {
    match normalized {
        "yes" | "y" | "yeah" | "yep" | "yup" | "ya" | "yes i have" | "si" | "true" => Some(true),
        "no" | "n" | "nope" | "nah" | "no i havent" | "false" => Some(false),
        _ => None,
    }
}

/// A typed answer to "for yourself or for someone you care about?".
fn audience_reply(normalized: &str) -> Option<Audience> {
    match normalized {
        "me" | "myself" | "for me" | "for myself" | "self" | "yourself" | "for yourself" | "mine" | "i am" | "1" => Some(Audience::Myself),
        "someone" | "someone else" | "for someone" | "for someone else" | "loved one" | "a loved one" | "friend" | "family" | "2" => {
            Some(Audience::LovedOne)
        }
        // "my son", "she is": a short reply that says who; a longer message is a new question.
        other if other.split(' ').count() <= 4 => audience_cue(other),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_for_a_number_to_call_is_read_as_one() {
        use crate::text::normalize::normalize;
        for yes in ["who do i actually call?", "ok who do I call", "What number do I call", "¿a quién llamo?", "y a que numero llamo"] {
            assert!(asks_whom_to_call(&normalize(yes)), "{yes}");
        }
        for no in ["who called klonopin a miracle drug", "what is klonopin", "numbers of pills"] {
            assert!(!asks_whom_to_call(&normalize(no)), "{no}");
        }
    }

    #[test]
    fn a_typed_line_is_a_command_only_when_it_reads_as_one() {
        let command = |name, payload| Some((name, payload));
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("/start", command("start", "")),
            ("/help@klonopin_bot", command("help", "")),
            ("/start tolerance", command("start", "tolerance")),
            ("/overdose my son", command("overdose", "my son")),
            // After something that is not a command, or that could not be a username, the
            // `@` part is the message's own: read whole (found by the `text` fuzz target).
            ("/ufo@é\u{0}suicidedoor", None),
            ("/ufo@took_them_all", None),
            ("/help@not a bot", command("help", "a bot")),
            ("/", None),
            ("/ what", None),
        ];
        for (line, expected) in cases {
            let got = match Input::from_text(line) {
                Input::Command { name, payload } => Some((name, payload)),
                _ => None,
            };
            assert_eq!(got, *expected, "{line:?}");
        }
    }
}
