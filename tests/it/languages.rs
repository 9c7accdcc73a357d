//! Spanish and English: the chat's language from the app, from a choice, from how a person
//! writes; whole Spanish conversations on the shipped responses (`responses/es/`).

use klonopin_bot::content::ResponseSet;
use klonopin_bot::engine::{step_in, Input, Next, State, Turn};

use crate::conversations::shipped as content;

/// A chat with one app language, driven through `step_in`.
struct Chat {
    state: State,
    app: Option<&'static str>,
    last: Option<Turn>,
}

impl Chat {
    fn new(app: Option<&'static str>) -> Chat {
        Chat { state: State::default(), app, last: None }
    }

    fn send(&mut self, input: &Input) -> &Turn {
        let turn = step_in(&self.state, input, content(), self.app);
        match &turn.next {
            Next::Keep(state) => self.state = state.clone(),
            Next::Forget => self.state = State::default(),
        }
        self.last = Some(turn);
        self.last.as_ref().expect("just set")
    }

    fn say(&mut self, text: &str) -> &Turn {
        self.send(&Input::from_text(text))
    }

    /// Presses the first button of the last reply whose callback data starts with `prefix`.
    fn press(&mut self, prefix: &str) -> &Turn {
        let data = self
            .last
            .as_ref()
            .and_then(|t| {
                t.messages.iter().flat_map(|m| m.buttons.iter().flatten()).map(|b| b.action.encode()).find(|d| d.starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("no button {prefix} in {:#?}", self.last));
        self.send(&Input::Button(&data))
    }
}

fn text(turn: &Turn) -> String {
    turn.messages.iter().map(|m| m.text.plain.as_str()).collect::<Vec<_>>().join("\n")
}

/// The first words of a text, to recognise it at the start of a reply.
fn opening(text: &str) -> String {
    text.chars().take(40).collect()
}

fn spanish() -> &'static ResponseSet {
    content().in_language("es")
}

#[test]
fn the_shipped_responses_have_a_whole_spanish_translation() {
    let (en, es) = (content(), spanish());
    assert_eq!(es.language, "es");
    assert_eq!(es.topics.len(), en.topics.len());
    for (a, b) in en.topics.iter().zip(&es.topics) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.crisis, b.crisis, "{}", a.id);
        assert_ne!(a.answer.plain, b.answer.plain, "{} is not translated", a.id);
        assert_ne!(a.title, b.title, "{}'s title is not translated", a.id);
    }
    assert_ne!(en.crisis.overdose.body.plain, es.crisis.overdose.body.plain);
    assert_ne!(en.selfcheck.questions[0].plain, es.selfcheck.questions[0].plain);
}

/// From /start to a topic, a crisis and the self-check's result, all in Spanish, for an app
/// set to Spanish: nothing is stored for the language (the app says it every time).
#[test]
fn a_spanish_app_gets_a_spanish_conversation_from_start_to_the_self_checks_result() {
    let es = spanish();
    let mut chat = Chat::new(Some("es-MX"));
    let turn = chat.say("/start");
    assert!(turn.messages[0].text.plain.starts_with(&es.bot.greeting.plain), "{}", text(turn));
    assert!(matches!(&turn.next, Next::Keep(s) if s.language.is_none()), "the app's language is not stored");

    let topic = &es.topics[es.topics.iter().position(|t| t.id == "what-is-klonopin").expect("topic")];
    let turn = chat.press("v1:t:what-is-klonopin");
    assert_eq!(turn.topic.as_deref(), Some("what-is-klonopin"));
    assert!(text(turn).contains(topic.answer.plain.lines().next().expect("a first line")), "{}", text(turn));

    let turn = chat.say("me tome todas las pastillas de clonazepam");
    assert!(turn.crisis.contains(klonopin_bot::text::crisis::CrisisKind::Overdose), "{}", text(turn));
    let first = &turn.messages[0].text.plain;
    assert!(first.starts_with(&opening(&es.crisis.overdose.body.plain)), "{first}");
    for number in ["911", "1-800-222-1222", "1-800-662-4357"] {
        assert!(first.contains(number), "{number} missing from {first}");
    }

    let turn = chat.say("/selfcheck");
    assert!(text(turn).contains(es.selfcheck.questions[0].plain.lines().next().expect("question")), "{}", text(turn));
    for _ in 0..11 {
        chat.press("v1:q:");
    }
    let result = text(chat.last.as_ref().expect("a result"));
    assert!(es.selfcheck.bands.iter().any(|b| result.contains(b.text.plain.lines().next().expect("band"))), "{result}");
}

#[test]
fn a_spanish_message_from_an_english_app_is_answered_in_spanish_with_a_way_back() {
    let (en, es) = (content(), spanish());
    let mut chat = Chat::new(Some("en-US"));
    let turn = chat.say("¿Qué es el clonazepam y para qué sirve?");
    assert!(text(turn).contains(es.bot.help_now.plain.lines().next().expect("help now")) || turn.topic.is_some(), "{}", text(turn));
    let back = turn.messages.last().expect("a message").buttons.iter().flatten().find(|b| b.action.encode() == "v1:l:en");
    assert_eq!(back.map(|b| b.label.as_str()), Some("English"));
    assert_eq!(chat.state.language.as_deref(), Some("es"), "the language written in is kept for the buttons");
    // A button pressed afterwards answers in Spanish too.
    let turn = chat.send(&Input::Button("v1:t:side-effects"));
    assert!(turn.messages[0].text.plain.starts_with(&es.topic("side-effects").expect("topic").answer.plain), "{}", text(turn));
    // The way back.
    let turn = chat.send(&Input::Button("v1:l:en"));
    assert!(turn.messages[0].text.plain.starts_with(&en.bot.menu_prompt.plain), "{}", text(turn));
    assert_eq!(chat.state.language, None, "back to what the app suggests: nothing stored");
    // Short or unclear messages keep the chat's language.
    let turn = chat.say("ok");
    assert!(!text(turn).contains(es.bot.help_now.plain.lines().next().expect("help now")));
}

#[test]
fn language_can_be_chosen_with_a_command_and_forgotten() {
    let es = spanish();
    let mut chat = Chat::new(None);
    let turn = chat.say("/language");
    let labels: Vec<&str> = turn.messages[0].buttons.iter().flatten().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["English", "Español"]);
    let turn = chat.press("v1:l:es");
    assert!(turn.messages[0].text.plain.starts_with(&es.bot.menu_prompt.plain), "{}", text(turn));
    assert_eq!(chat.state.language.as_deref(), Some("es"));
    let turn = chat.say("/help");
    assert!(turn.messages[0].text.plain.starts_with(&es.bot.help.plain), "{}", text(turn));
    // A crisis in English in a Spanish chat: guidance first, in the language written.
    let turn = chat.say("i took too many pills and i cant stay awake");
    assert!(turn.messages[0].text.plain.starts_with(&opening(&content().crisis.overdose.body.plain)), "{}", text(turn));
    chat.say("/idioma");
    chat.press("v1:l:es");
    chat.say("/forget");
    assert_eq!(chat.state.language, None);
}

/// Overheard in a group: crisis guidance in the message's language.
#[test]
fn a_group_hears_a_spanish_crisis_in_spanish() {
    let es = spanish();
    let turn =
        klonopin_bot::engine::overheard("mi hermano se tomo un frasco entero de rivotril y no despierta", content()).expect("a crisis");
    assert!(turn.messages[0].text.plain.starts_with(&opening(&es.crisis.overdose.body.plain)), "{}", text(&turn));
}

/// Prints the lines of a file (`LANGUAGE_DUMP`, one message per line, `#` comments and a
/// leading tab-separated label allowed) that read as Spanish, then as English, with counts:
/// for checking the detector on development data by eye.
/// `LANGUAGE_DUMP=responses/examples/not-crisis.txt cargo test --test it dump_language -- --ignored --nocapture`
#[test]
#[ignore = "a development aid: prints, asserts nothing"]
fn dump_language_guesses() {
    use klonopin_bot::text::{language::written_in, normalize::normalize};
    let Ok(path) = std::env::var("LANGUAGE_DUMP") else { return };
    let text = std::fs::read_to_string(&path).expect("readable");
    let (mut es, mut en, mut none) = (Vec::new(), 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let message = line.rsplit('\t').next().unwrap_or(line);
        match written_in(message, &normalize(message)) {
            Some("es") => es.push(message),
            Some(_) => en += 1,
            None => none += 1,
        }
    }
    for m in &es {
        println!("es\t{m}");
    }
    println!("{path}: {} Spanish, {en} English, {none} unclear", es.len());
}

/// A Spanish chat that chose a country reads that country's services in Spanish (from
/// `es/regions/`): every crisis block, the /crisis page, help_now and the self-check's
/// results give its numbers, and none of the English words its file writes them with.
#[test]
fn a_spanish_chat_reads_every_countrys_services_in_spanish() {
    use klonopin_bot::text::crisis::CrisisKind;
    let (en, es) = (content(), spanish());
    assert_eq!(en.regions.len(), es.regions.len(), "the same countries");
    assert!(es.regions.len() >= 10, "the shipped countries");
    assert!(es.regions.iter().any(|r| r.region.name == "Reino Unido"), "the countries' names in Spanish");
    for theirs in es.regions.iter().skip(1) {
        let r = &theirs.region;
        let english = &en.regions.iter().find(|e| e.region.code == r.code).expect("the same countries").region;
        let crisis = r.crisis.as_ref().expect("every country has a crisis line");
        let self_harm = &theirs.crisis.block(CrisisKind::SelfHarm).body.plain;
        assert!(self_harm.contains(&crisis.number) && self_harm.contains("llame"), "{}: {self_harm}", r.code);
        let mut texts: Vec<&str> = vec![&theirs.crisis.intro.plain, &theirs.help_now.plain, &theirs.greeting.plain];
        texts.extend(
            CrisisKind::ALL
                .iter()
                .flat_map(|k| [&theirs.crisis.block(*k).body.plain, &theirs.crisis.block(*k).again.plain])
                .map(String::as_str),
        );
        texts.extend(theirs.bands.iter().map(|b| b.plain.as_str()));
        let english_words: Vec<&str> = [&english.crisis, &english.poison, &english.helpline]
            .into_iter()
            .flatten()
            .flat_map(|s| [s.line.as_str(), s.reach.as_str()])
            .chain(english.treatment.as_deref())
            .collect();
        for text in texts {
            for words in &english_words {
                assert!(!text.contains(words), "{}: a Spanish text gives {words:?}: {text}", r.code);
            }
            for word in ["(free", "24/7", "toll-free", "call or text"] {
                assert!(!text.contains(word), "{}: a Spanish text says {word:?}: {text}", r.code);
            }
        }
    }
}

/// A Spanish chat in the United Kingdom: the self-check's last band gives 999 and Samaritans
/// in Spanish, and no American number.
#[test]
fn a_spanish_self_check_result_gives_the_chosen_countrys_numbers() {
    let mut chat = Chat::new(Some("es"));
    chat.say("reino unido");
    assert_eq!(chat.state.region.as_deref(), Some("gb"));
    chat.say("/selfcheck");
    for i in 0..11u8 {
        chat.send(&Input::Button(&format!("v1:q:{i}:y")));
    }
    let result = text(chat.last.as_ref().expect("a result"));
    for wanted in ["999", "llame a Samaritans al 116 123", "servicio de salud local"] {
        assert!(result.contains(wanted), "{wanted} missing from {result}");
    }
    for american in ["911", "988", "1-800-662-4357"] {
        assert!(!result.contains(american), "{american} in {result}");
    }
}
