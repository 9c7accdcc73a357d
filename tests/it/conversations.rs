//! Whole conversations through the engine, written as data: what the person sends, what
//! must come back. Runs on the shipped responses.

use std::sync::OnceLock;

use klonopin_bot::content::{load_embedded, ResponseSet};
use klonopin_bot::engine::{step, Flow, Input, Next, State, Turn};
use klonopin_bot::text::audience::Audience;

fn content() -> &'static ResponseSet {
    shipped()
}

/// The shipped responses, loaded once for every test that reads them.
pub fn shipped() -> &'static ResponseSet {
    static SET: OnceLock<ResponseSet> = OnceLock::new();
    SET.get_or_init(|| match load_embedded() {
        Ok(loaded) => loaded.set,
        Err(diags) => panic!("shipped responses are invalid: {diags:#?}"),
    })
}

/// One thing the person does.
enum Do {
    Say(&'static str),
    /// Press the button whose callback data starts with this.
    Press(&'static str),
    /// Press raw callback data, as an old or forged button would.
    RawButton(&'static str),
    Sticker,
    Photo(&'static str),
}

/// What must hold for the reply.
enum Expect {
    Topic(&'static str),
    NoTopic,
    Crisis(&'static [&'static str]),
    /// The first line of the first message contains this.
    FirstLine(&'static str),
    /// Some message contains this.
    Says(&'static str),
    /// No message contains this.
    Lacks(&'static str),
    /// The chat's chosen country (`None`: the default).
    Region(Option<&'static str>),
    /// Some button's data starts with this.
    Button(&'static str),
    NoButton(&'static str),
    Flow(&'static str),
    Audience(Option<Audience>),
    Forget,
    /// The calm "are you in danger right now?" question is not asked.
    NoCheckIn,
    /// The first text comes before the second in the reply.
    Before(&'static str, &'static str),
}

struct Chat {
    state: State,
    last: Option<Turn>,
}

impl Chat {
    fn new() -> Self {
        Chat { state: State::default(), last: None }
    }

    fn run(&mut self, action: &Do) -> Turn {
        let data;
        let input = match action {
            Do::Say(text) => Input::from_text(text),
            Do::Press(prefix) => {
                data = self
                    .last
                    .as_ref()
                    .and_then(|t| {
                        t.messages
                            .iter()
                            .flat_map(|m| m.buttons.iter().flatten())
                            .map(|b| b.action.encode())
                            .find(|d| d.starts_with(prefix))
                    })
                    .unwrap_or_else(|| panic!("no button {prefix:?} in the last reply"));
                Input::Button(&data)
            }
            Do::RawButton(raw) => Input::Button(raw),
            Do::Sticker => Input::NonText { caption: None },
            Do::Photo(caption) => Input::NonText { caption: Some(caption) },
        };
        let turn = step(&self.state, &input, content());
        self.state = match &turn.next {
            Next::Keep(s) => s.clone(),
            Next::Forget => State::default(),
        };
        self.last = Some(turn.clone());
        turn
    }
}

/// A chat stored by an older version while it waited for "for yourself or someone else?"
/// about `topic` (the current version never enters that flow).
fn stored_while_asking_for_whom(topic: &str) -> State {
    State { flow: Flow::Audience { topic: topic.into() }, ..State::default() }
}

fn flow_name(flow: &Flow) -> String {
    match flow {
        Flow::Idle => "idle".into(),
        Flow::Audience { topic } => format!("audience {topic}"),
        Flow::SelfCheck { next, .. } => format!("self-check {next}"),
    }
}

fn check(name: &str, script: &[(Do, &[Expect])]) {
    let mut chat = Chat::new();
    for (i, (action, expects)) in script.iter().enumerate() {
        let turn = chat.run(action);
        let at = format!("{name}, step {}", i + 1);
        assert!(!turn.messages.is_empty(), "{at}: no reply");
        let texts: Vec<&str> = turn.messages.iter().map(|m| m.text.plain.as_str()).collect();
        let buttons: Vec<String> = turn.messages.iter().flat_map(|m| m.buttons.iter().flatten()).map(|b| b.action.encode()).collect();
        let crisis: Vec<&str> = turn.crisis.iter().map(|k| k.name()).collect();
        for expect in *expects {
            match expect {
                Expect::Topic(id) => assert_eq!(turn.topic.as_deref(), Some(*id), "{at}: topic; replies: {texts:#?}"),
                Expect::NoTopic => assert_eq!(turn.topic, None, "{at}: expected no topic"),
                Expect::Crisis(kinds) => assert_eq!(crisis, *kinds, "{at}: crisis kinds"),
                Expect::FirstLine(s) => {
                    let first = texts[0].lines().next().unwrap_or("");
                    assert!(first.contains(s), "{at}: first line {first:?} lacks {s:?}");
                }
                Expect::Says(s) => assert!(texts.iter().any(|t| t.contains(s)), "{at}: no message contains {s:?}: {texts:#?}"),
                Expect::Lacks(s) => assert!(!texts.iter().any(|t| t.contains(s)), "{at}: a message contains {s:?}: {texts:#?}"),
                Expect::Region(r) => assert_eq!(chat.state.region.as_deref(), *r, "{at}: region"),
                Expect::Button(p) => assert!(buttons.iter().any(|b| b.starts_with(p)), "{at}: no button {p:?} in {buttons:?}"),
                Expect::NoButton(p) => assert!(!buttons.iter().any(|b| b.starts_with(p)), "{at}: unexpected button {p:?}"),
                Expect::Flow(f) => assert_eq!(flow_name(&chat.state.flow), *f, "{at}: flow"),
                Expect::Audience(a) => assert_eq!(chat.state.audience, *a, "{at}: audience"),
                Expect::Forget => assert_eq!(turn.next, Next::Forget, "{at}: expected /forget"),
                Expect::NoCheckIn => assert!(!turn.check_in, "{at}: expected no check-in question"),
                Expect::Before(a, b) => {
                    let all: String = turn.messages.iter().map(|m| m.text.plain.as_str()).collect::<Vec<_>>().join("\n");
                    let (i, j) = (all.find(a), all.find(b));
                    assert!(i.is_some() && j.is_some() && i < j, "{at}: expected {a:?} before {b:?} in:\n{all}");
                }
            }
        }
    }
}

const SAMHSA: &str = "1-800-662-4357";
const POISON: &str = "1-800-222-1222";

use Do::*;
use Expect::*;

#[test]
fn menu_answer_and_follow_up() {
    check(
        "menu",
        &[
            (Say("/start"), &[NoTopic, Crisis(&[]), Button("v1:t:what-is-klonopin"), Button("v1:c"), Button("v1:s")]),
            (Press("v1:t:what-is-klonopin"), &[Topic("what-is-klonopin"), Says("0.5 mg"), Button("v1:t:"), Button("v1:m")]),
            (Press("v1:t:medical-uses"), &[Topic("medical-uses"), Says("Sources")]),
            (Press("v1:m"), &[NoTopic, Button("v1:t:what-is-klonopin")]),
        ],
    );
}

#[test]
fn free_text_typos_slang_and_look_alike_names() {
    check(
        "free text",
        &[
            (Say("is klonopin addictive"), &[Topic("is-it-addictive"), Crisis(&[])]),
            (Say("klonipin side efects"), &[Topic("side-effects")]),
            (Say("are k-pins addictive??"), &[Topic("is-it-addictive")]),
            (Say("what is clonidine"), &[Topic("not-clonidine"), Says("different medicines")]),
            (Say("is clonazepam legal without a prescription"), &[Topic("legal-status")]),
            (Say("asdf qwerty zxcv"), &[NoTopic, Crisis(&[]), Button("v1:t:")]),
        ],
    );
}

#[test]
fn withdrawal_and_overdose_get_crisis_guidance_first() {
    check(
        "crisis",
        &[
            (Say("I stopped taking my klonopin 3 days ago and I'm shaking"), &[Crisis(&["withdrawal"]), FirstLine("911"), Says(SAMHSA)]),
            // A whole bottle may have been on purpose: the classifier adds the self-harm block,
            // after the overdose block (911 still first).
            (
                Say("my son took a whole bottle of pins and won't wake up"),
                &[Crisis(&["overdose", "self-harm"]), FirstLine("911"), Says(POISON), Says(SAMHSA)],
            ),
            (Say("withdrawl"), &[Crisis(&["withdrawal"]), Says(SAMHSA)]),
            (Say("i think she OD'd"), &[Crisis(&["overdose"]), FirstLine("911")]),
            (Say("sobredosis de clonazepam"), &[Crisis(&["overdose"]), FirstLine("911")]),
            (Say("I want to die"), &[Crisis(&["self-harm"]), Says("988"), Says(SAMHSA)]),
            (Say("/crisis"), &[Crisis(&["overdose", "self-harm", "withdrawal"]), Says("911"), Says("988"), Says(POISON), Says(SAMHSA)]),
        ],
    );
}

#[test]
fn crisis_topics_carry_their_block_once() {
    check("crisis topic", &[(Press_free("how long does klonopin withdrawal last"), &[Crisis(&["withdrawal"]), Says(SAMHSA)])]);
    // Asked about, not experienced: the topic still carries its guidance.
    let mut chat = Chat::new();
    let turn = chat.run(&Say("/start withdrawal-timeline"));
    let joined: String = turn.messages.iter().map(|m| m.text.plain.clone()).collect::<Vec<_>>().join("\n");
    assert_eq!(joined.matches(SAMHSA).count(), 1, "the withdrawal block appears exactly once: {joined}");
}

#[allow(non_snake_case)]
fn Press_free(text: &'static str) -> Do {
    Say(text)
}

#[test]
fn self_check_to_the_result() {
    let mut script: Vec<(Do, &[Expect])> = vec![(Say("/selfcheck"), &[Flow("self-check 0"), Says("1 of 11"), Button("v1:q:0:y")])];
    for i in 0..11u8 {
        let prefix: &'static str = Box::leak(format!("v1:q:{i}:{}", if i < 4 { 'y' } else { 'n' }).into_boxed_str());
        script.push((Press(prefix), &[]));
    }
    check("self-check", &script);
    let mut chat = Chat::new();
    chat.run(&Say("/selfcheck"));
    for i in 0..11u8 {
        let data = format!("v1:q:{i}:{}", if i < 4 { 'y' } else { 'n' });
        chat.run(&RawButton(Box::leak(data.into_boxed_str())));
    }
    let last = chat.last.expect("a reply");
    let band = content().selfcheck.band(4).expect("a band for 4");
    let closed = format!("{}\n\n{}", band.text.plain, content().bot.help_now.plain);
    assert_eq!(last.messages.last().map(|m| &m.text.plain), Some(&closed));
    assert_eq!(chat.state.flow, Flow::Idle);
}

#[test]
fn crisis_in_the_middle_of_the_self_check_keeps_the_place() {
    check(
        "self-check crisis",
        &[
            (Say("/selfcheck"), &[Flow("self-check 0")]),
            (Press("v1:q:0:y"), &[Flow("self-check 1"), Says("2 of 11")]),
            (Say("yes"), &[Flow("self-check 2"), Says("3 of 11")]),
            (Say("honestly I want to die"), &[Crisis(&["self-harm"]), FirstLine("988"), Flow("self-check 2"), Button("v1:r")]),
            (Press("v1:r"), &[Flow("self-check 2"), Says("3 of 11"), Button("v1:q:2:")]),
            (Say("I ran out 2 days ago and I'm shaking"), &[Crisis(&["withdrawal"]), Flow("self-check 2"), Button("v1:r")]),
            // A stale tap on an answered question does not count twice.
            (RawButton("v1:q:0:y"), &[Flow("self-check 2"), Says("3 of 11")]),
            (Say("/cancel"), &[Flow("idle"), NoButton("v1:r")]),
            (RawButton("v1:q:2:y"), &[Flow("idle"), Button("v1:t:")]),
        ],
    );
}

#[test]
fn loved_one_path() {
    check(
        "loved one",
        &[
            // The answer comes first; the other version is one tap away, never behind a question.
            (
                Say("what are the signs of klonopin addiction"),
                &[Topic("signs-of-addiction"), Flow("idle"), Button("v1:a:l:signs-of-addiction"), NoButton("v1:a:s:")],
            ),
            (
                Press("v1:a:l:"),
                &[
                    Topic("signs-of-addiction"),
                    Flow("idle"),
                    Audience(Some(Audience::LovedOne)),
                    Button("v1:a:s:signs-of-addiction"),
                    NoButton("v1:a:l:"),
                ],
            ),
            // Remembered: the next topic with two versions opens with the loved-one one.
            (Say("where can they get help for klonopin addiction"), &[Topic("getting-help"), Flow("idle"), Button("v1:a:s:getting-help")]),
        ],
    );
    let loved = content().topic("signs-of-addiction").and_then(|t| t.answer_loved_one.as_ref()).expect("a loved-one answer");
    let mut chat = Chat::new();
    chat.run(&Say("what are the signs of klonopin addiction"));
    let turn = chat.run(&Press("v1:a:l:"));
    assert_eq!(turn.messages[0].text.plain, format!("{}\n\n{}", loved.plain, content().bot.help_now.plain));

    check(
        "loved one by cue",
        &[(Say("what are the signs my son is misusing klonopin"), &[Topic("signs-of-addiction"), Audience(Some(Audience::LovedOne))])],
    );
    // A chat stored by an older version while it waited for "for whom?" still resolves.
    let waiting = stored_while_asking_for_whom("signs-of-addiction");
    let turn = step(&waiting, &Input::Text("for me"), content());
    assert_eq!(turn.topic.as_deref(), Some("signs-of-addiction"));
    assert_eq!(
        turn.next,
        Next::Keep(State {
            flow: Flow::Idle,
            audience: Some(Audience::Myself),
            last_topic: Some("signs-of-addiction".into()),
            ..State::default()
        })
    );
}

#[test]
fn a_follow_up_that_leads_back_to_the_answer_just_given_gets_something_new() {
    let repeat_line = "my answer just above";
    check(
        "repeat",
        &[
            (Say("is klonopin addictive"), &[Topic("is-it-addictive")]),
            // Not the same text again: a line that says so, other likely topics, help one tap away.
            (
                Say("are k-pins addictive??"),
                &[NoTopic, Says(repeat_line), Says("Is it addictive?"), Button("v1:t:"), Button("v1:c"), Button("v1:m")],
            ),
            (Say("but are benzos addictive for everyone"), &[NoTopic, Says(repeat_line)]),
            // A button is an explicit request: it always answers.
            (RawButton("v1:t:is-it-addictive"), &[Topic("is-it-addictive")]),
            (Say("klonipin side efects"), &[Topic("side-effects")]),
            (Say("is klonopin addictive"), &[Topic("is-it-addictive")]),
        ],
    );
    check(
        "repeat, saying for whom",
        &[
            (Say("what are the signs of klonopin addiction"), &[Topic("signs-of-addiction"), Audience(None)]),
            // "for my son" changes the answer: the loved-one version, not the repeat line.
            (Say("what are the signs of klonopin addiction in my son"), &[Topic("signs-of-addiction"), Audience(Some(Audience::LovedOne))]),
            (Say("signs of klonopin addiction"), &[NoTopic, Says(repeat_line)]),
        ],
    );
    // Whatever else the follow-up says, crisis guidance still comes first.
    check(
        "repeat after crisis",
        &[
            (Say("how long does klonopin withdrawal last"), &[Crisis(&["withdrawal"]), FirstLine("911")]),
            (Say("how long does klonopin withdrawal last"), &[Crisis(&["withdrawal"]), FirstLine("911")]),
        ],
    );
}

#[test]
fn crisis_while_asked_for_whom_drops_the_question() {
    // A chat stored by an older version while it waited for "for whom?".
    let waiting = stored_while_asking_for_whom("signs-of-addiction");
    let turn = step(&waiting, &Input::Text("he overdosed and is not breathing"), content());
    assert_eq!(turn.crisis.iter().map(|k| k.name()).collect::<Vec<_>>(), ["overdose"]);
    assert!(turn.messages[0].text.plain.lines().next().unwrap_or("").contains("911"));
    assert!(matches!(turn.next, Next::Keep(State { flow: Flow::Idle, .. })));
}

#[test]
fn deep_links() {
    check(
        "deep link",
        &[
            (Say("/start tolerance"), &[Topic("tolerance")]),
            (Say("/start no-such-topic"), &[NoTopic, Button("v1:t:")]),
            (Say("/start overdose"), &[Crisis(&["overdose"]), FirstLine("911")]),
        ],
    );
}

#[test]
fn commands_and_odd_input() {
    let long = Box::leak(format!("{} withdrawal {}", "so ".repeat(1300), "x".repeat(100)).into_boxed_str());
    check(
        "commands",
        &[
            (Say("/help"), &[Button("v1:m")]),
            (Say("/privacy"), &[Says("30 days")]),
            (Say("/about"), &[Says("not medical advice")]),
            (Say("/topics"), &[Button("v1:t:")]),
            (Say("/nonsense"), &[NoTopic, Button("v1:t:")]),
            (Say("/help@klonopin_test_bot"), &[Button("v1:m")]),
            (Sticker, &[NoTopic, Crisis(&[]), Button("v1:t:")]),
            (Photo("took too many klonopin"), &[Crisis(&["overdose"]), FirstLine("911")]),
            (RawButton("v1:t:removed-topic"), &[NoTopic, Button("v1:t:")]),
            (RawButton("garbage \u{0}"), &[Button("v1:t:")]),
            (Say(long), &[Crisis(&["withdrawal"])]),
            (Say("\u{202E}\u{200B}🙂 ̷̛̖ klonopin"), &[]),
            (Say("/forget"), &[Forget]),
        ],
    );
}

#[test]
fn a_stored_state_naming_a_removed_topic_degrades_to_the_menu() {
    let state = stored_while_asking_for_whom("gone");
    let turn = step(&state, &Input::Text("me"), content());
    assert!(turn.messages.iter().flat_map(|m| m.buttons.iter().flatten()).any(|b| b.action.encode().starts_with("v1:t:")));
    assert_eq!(turn.next, Next::Keep(State { flow: Flow::Idle, audience: Some(Audience::Myself), ..State::default() }));
}

/// In a group, a message not addressed to the bot gets the crisis guidance and nothing else:
/// the same first message a direct message would get, no topic answer, no fallback.
#[test]
fn overheard_messages_get_only_the_crisis_guidance() {
    use klonopin_bot::engine::overheard;
    let cases: &[(&str, bool)] = &[
        ("my brother took a whole bottle of his klonopin and won't wake up", true),
        ("day 4 off k-pins, the withdrawl is brutal", true),
        ("is klonopin addictive", false),
        ("lol see you all tomorrow", false),
        ("", false),
    ];
    for (text, crisis) in cases {
        let heard = overheard(text, content());
        if let Some(turn) = &heard {
            // In a group that chose the United Kingdom, its numbers.
            let uk = klonopin_bot::engine::overheard_in(text, content(), Some("gb")).expect("the same crisis");
            assert_eq!(uk.crisis, turn.crisis);
            assert!(uk.messages[0].text.plain.contains("999"), "{}", uk.messages[0].text.plain);
        }
        assert_eq!(heard.is_some(), *crisis, "{text:?}");
        let Some(heard) = heard else { continue };
        let direct = step(&State::default(), &Input::Text(text), content());
        assert!(!direct.crisis.is_empty() && direct.messages.len() > 1, "{text:?}: a direct message gets guidance and more");
        assert_eq!(heard.messages, direct.messages[..1], "{text:?}: only the guidance");
        assert_eq!(heard.crisis, direct.crisis, "{text:?}");
        assert_eq!(heard.topic, None, "{text:?}");
    }
    // A group message that places the writer gets that country's numbers, for that reply.
    let placed =
        klonopin_bot::engine::overheard_in("im in australia and my friend took too many pills", content(), None).expect("a crisis");
    assert!(placed.messages[0].text.plain.lines().next().unwrap_or("").contains("000"), "{}", placed.messages[0].text.plain);
    // In Spanish too, and a country without a file leaves a group's chosen one (Spain's 112)
    // for the default numbers rather than keep numbers the writer is not near.
    let mexico =
        klonopin_bot::engine::overheard_in("estoy en méxico, mi amigo tomó 30 pastillas", content(), Some("es")).expect("a crisis");
    let first = &mexico.messages[0].text.plain;
    assert!(first.contains("911") && !first.contains("024"), "{first}");
}

/// Every reply that shows no crisis guidance ends with the `help_now` line (911, 988,
/// SAMHSA), so a crisis in words the detector does not know still meets them; the
/// self-check's questions and the "for whom?" question, one tap from an answer, do not.
#[test]
fn replies_without_crisis_guidance_end_with_help_now() {
    let help_now = &content().bot.help_now.plain;
    // (what the person does, whether the reply ends with help_now)
    let script: &[(Do, bool)] = &[
        (Say("/start"), true),
        (Say("is klonopin addictive"), true),
        (Say("zebra quartz violin"), true),
        (Sticker, true),
        (Say("what are the signs of klonopin addiction"), true),
        (Press("v1:a:l:"), true),
        (Say("/selfcheck"), false),     // question 1
        (RawButton("v1:q:0:y"), false), // question 2
        (Say("/cancel"), true),
        (Say("my friend took a whole bottle and won't wake up"), false), // crisis guidance instead
        (Say("/crisis"), false),                                         // the crisis page itself
    ];
    let mut chat = Chat::new();
    for (i, (action, closes)) in script.iter().enumerate() {
        let turn = chat.run(action);
        let last = turn.messages.last().map(|m| m.text.plain.as_str()).unwrap_or("");
        assert_eq!(last.ends_with(help_now.as_str()), *closes, "step {i}: {last}");
        let shown = turn.messages.iter().filter(|m| m.text.plain.contains(help_now.as_str())).count();
        assert!(shown <= 1, "step {i}: help_now at most once per reply");
    }
}

/// Issue 11's four people, the way they would type. Only what must hold for each is asserted
/// here (crisis guidance first, the child's Poison Help first, no scolding of someone who
/// already stopped, the right topic where the bot answers one); the follow-ups the bot still
/// cannot place are listed in the issue.
#[test]
fn four_people_from_issue_11() {
    check(
        "a parent at 2 a.m.",
        &[
            (
                Say("my 3 yr old got into my purse and ate one of my klonopin"),
                &[
                    Crisis(&["overdose"]),
                    FirstLine("911"),
                    Says("A child swallowed a pill"),
                    Says(POISON),
                    Topic("child-swallowed"),
                    Says("Do not try to make them vomit"),
                ],
            ),
            (Say("will poison control call cps or the police on me"), &[Topic("good-samaritan"), FirstLine("911")]),
            (Say("thank you"), &[NoTopic, Crisis(&[]), Says(POISON)]),
        ],
    );
    check(
        "three days off, cold turkey",
        &[
            (
                Say("stopped my kpins 3 days ago cold turkey"),
                &[
                    Crisis(&["withdrawal"]),
                    FirstLine("911"),
                    Topic("already-stopped"),
                    Says("Do not wait it out"),
                    Says("someone else's pills"),
                ],
            ),
            (Say("my hands are shaking and i cant sleep"), &[Crisis(&["withdrawal"]), Topic("withdrawal-symptoms")]),
            (Say("my doctor cant see me till next week"), &[Topic("already-stopped")]),
            (Say("can this give me a seizure"), &[Topic("seizure"), Says("911")]),
        ],
    );
    check(
        "someone who wants to taper",
        &[
            (Say("i want to get off klonopin, ive been on 2mg for 5 years"), &[Crisis(&["withdrawal"]), Topic("tapering-and-detox")]),
            (Say("is 2 mg a lot"), &[Topic("dose-ranges"), Says("never change your dose yourself")]),
            (Say("how fast should i taper"), &[Topic("taper-pace"), FirstLine("911"), Says("not a schedule")]),
            (Say("does therapy help with coming off"), &[Topic("treatment-options")]),
        ],
    );
    check(
        "pregnant, on clonazepam",
        &[
            (Say("i just found out im pregnant and im on klonopin"), &[Topic("pregnancy"), Says("Do not stop Klonopin suddenly")]),
            (Say("my ob said to stop it today"), &[Crisis(&["withdrawal"]), FirstLine("911")]),
        ],
    );
    // Nobody who already stopped is told "never stop suddenly": the guidance starts from where
    // they are.
    let mut chat = Chat::new();
    for text in ["stopped my kpins 3 days ago cold turkey", "ran out of klonopin yesterday", "i quit clonazepam suddenly last week"] {
        let turn = chat.run(&Say(text));
        assert!(turn.messages.iter().all(|m| !m.text.plain.contains("Never stop")), "{text}: scolds");
    }
}

/// After crisis guidance, a guess the classifier is not sure of is not sent as a second
/// message (it would push the guidance up the screen) but offered as buttons under it.
#[test]
fn unsure_topics_after_crisis_guidance_are_buttons_under_it() {
    let turn = step(&State::default(), &Input::Text("day 5 off klonopin is it going to get worse"), content());
    assert_eq!(turn.crisis.iter().map(|k| k.name()).collect::<Vec<_>>(), ["withdrawal"]);
    assert_eq!(turn.messages.len(), 1, "the guidance is the whole reply");
    assert_eq!(turn.topic, None);
    let buttons: Vec<String> = turn.messages[0].buttons.iter().flatten().map(|b| b.action.encode()).collect();
    assert_eq!(buttons.first().map(String::as_str), Some("v1:t:withdrawal-timeline"), "{buttons:?}");
    assert_eq!(buttons.last().map(String::as_str), Some("v1:m"), "{buttons:?}");
    let mut unique = buttons.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), buttons.len(), "no button twice: {buttons:?}");
}

/// Someone in withdrawal writes five messages: the first reply shows the whole withdrawal
/// block, the next ones its shorter `again` version (still 911 first and SAMHSA), until a reply
/// without it; the /crisis page always shows everything.
#[test]
fn a_block_shown_in_the_reply_before_comes_back_shorter() {
    let block = content().crisis.block(klonopin_bot::text::crisis::CrisisKind::Withdrawal);
    assert_ne!(block.again, block.body, "the shipped withdrawal block has a shorter version");
    let (body, again) = (block.body.plain.as_str(), block.again.plain.as_str());
    let first_message = |turn: &Turn| turn.messages[0].text.plain.clone();
    let mut chat = Chat::new();
    let turn = chat.run(&Say("stopped my kpins 3 days ago cold turkey"));
    assert!(first_message(&turn).starts_with(body));
    for text in ["my hands are shaking and i cant sleep from the withdrawal", "is withdrawal from klonopin dangerous"] {
        let turn = chat.run(&Say(text));
        let first = first_message(&turn);
        assert!(first.starts_with(again) && !first.contains(body), "{text}: {first}");
        assert!(first.contains("911") && first.contains(SAMHSA), "{text}");
        assert!(turn.messages.iter().all(|m| !m.text.plain.contains(body)), "{text}: the whole block again");
    }
    chat.run(&Say("what is klonopin"));
    assert!(first_message(&chat.run(&Say("klonopin withdrawal is rough"))).starts_with(body), "after a reply without it, the whole block");
    chat.run(&Say("/crisis"));
    assert!(
        first_message(&chat.run(&Say("klonopin withdrawal is rough"))).starts_with(body),
        "the /crisis page does not shorten the next block"
    );
}

#[test]
fn a_country_chosen_by_name_or_by_button_gives_its_numbers_first() {
    check(
        "regions",
        &[
            // Named in a crisis message: that country's numbers, and kept for the chat.
            (
                Say("I'm in the UK who do I call if I took too many"),
                &[Crisis(&["overdose"]), FirstLine("999"), Says("NHS 111"), Lacks("911"), Lacks(POISON), Region(Some("gb"))],
            ),
            (Say("i want to kill myself"), &[Crisis(&["self-harm"]), FirstLine("116 123"), Lacks("call or text 988 now")]),
            // An answer with American numbers says so; the closing line has the chat's.
            (Say("what is klonopin"), &[Topic("what-is-klonopin"), Says("Emergency: 999"), Lacks("911"), Lacks(SAMHSA)]),
            (Say("signs of addiction"), &[Topic("signs-of-addiction"), Says("are American"), Says("Emergency: 999")]),
            (Say("/crisis"), &[FirstLine("999"), Says("numbers for the United Kingdom"), Button("v1:g")]),
            // By button.
            (Press("v1:g"), &[Button("v1:g:au"), Button("v1:g:us"), Button("v1:g:ca"), NoTopic]),
            (Press("v1:g:au"), &[FirstLine("000"), Says("13 11 26"), Says("13 11 14"), Region(Some("au"))]),
            (Say("my friend stopped her klonopin cold turkey 3 days ago"), &[Crisis(&["withdrawal"]), FirstLine("000"), Lacks("911")]),
            // Another country: the general advice, the numbers kept.
            (Press("v1:g"), &[Button("v1:g:*")]),
            (Press("v1:g:*"), &[Says("findahelpline.com"), Region(None)]),
            // A name alone is a choice; /region with a name too; the default country is no state.
            (Say("canada"), &[FirstLine("911"), Says("numbers for Canada"), Region(Some("ca"))]),
            (Say("/region united states"), &[FirstLine("911"), Says(SAMHSA), Region(None)]),
            (Press("v1:g"), &[Button("v1:g:gb")]),
            (Press("v1:g:gb"), &[Region(Some("gb"))]),
            // Naming a country is not placing oneself in it; "us" is not a country here.
            (Say("the pills were made in australia"), &[Region(Some("gb"))]),
            (
                Say("my son took too many, what is the number for us to call"),
                &[Crisis(&["overdose"]), FirstLine("999"), Region(Some("gb"))],
            ),
            (Say("/region"), &[Button("v1:g:au"), Region(Some("gb"))]),
            (Say("/forget"), &[Forget]),
            (Say("/crisis"), &[FirstLine("911"), Region(None)]),
        ],
    );
}

/// Cities, Spanish words and countries without numbers in the files: a walk-through found
/// "bangalore", "estoy en México" and "im in spain" answered with "not sure what you are
/// asking" or the check-in question.
#[test]
fn a_city_a_spanish_phrase_or_a_country_without_numbers_is_understood() {
    check(
        "cities",
        &[
            (Say("bangalore"), &[FirstLine("112"), Says("14416"), Region(Some("in"))]),
            (Say("im in london"), &[FirstLine("999"), Region(Some("gb"))]),
            (Say("i am in spain"), &[FirstLine("112"), Says("024"), NoCheckIn, Region(Some("es"))]),
            (Say("vivo en bogota"), &[FirstLine("123"), Says("Si alguien"), Region(Some("co"))]),
            // A country without a file: said so, in the chat's language, and the default
            // numbers rather than the country chosen before.
            (Say("estoy en méxico"), &[Says("Todavía no tengo números verificados"), Says("911"), Says("findahelpline.com"), Region(None)]),
            (Say("/region italy"), &[Says("findahelpline.com"), Region(None)]),
            (Say("/language en"), &[]),
            (
                Say("im in mexico, who do i call for help with klonopin addiction"),
                &[Says("I do not have checked numbers for that country"), Region(None)],
            ),
            // A crisis comes first, wherever the writer is.
            (Say("estoy en mexico y me quiero morir"), &[Crisis(&["self-harm"]), Says("findahelpline.com"), Region(None)]),
            // A whole region is not a country ("america" is the United States' name).
            (Say("/region colombia"), &[Region(Some("co"))]),
            (Say("vivo en america latina"), &[Region(Some("co"))]),
            (Say("/region united states"), &[Region(None)]),
            // Where the pills came from is not where the writer is.
            (Say("the pills came from mexico"), &[Lacks("I do not have checked numbers"), Region(None)]),
        ],
    );
}

/// After crisis guidance, "who do i call?" gets the numbers (the /crisis page), and that
/// page puts the kinds just shown first (a walk-through found the treatment topic, and
/// overdose first aid above the 988 block for someone who wrote about suicide).
#[test]
fn after_crisis_guidance_whom_to_call_gets_the_numbers_of_that_crisis_first() {
    check(
        "whom to call",
        &[
            (Say("i want to kill myself"), &[Crisis(&["self-harm"])]),
            (Say("who do i actually call?"), &[NoTopic, Says("988"), Before("call or text 988", "Call 911 now if someone")]),
            (Say("my friend took 10 of my klonopin and is really sleepy"), &[Crisis(&["overdose"])]),
            (Say("ok who do I call"), &[NoTopic, Says("1-800-222-1222"), Before("Call 911 now if someone", "call or text 988")]),
            // A place in the same message counts: that country's page, or the word that these
            // numbers are not its.
            (Say("quiero morirme"), &[Crisis(&["self-harm"])]),
            (Say("estoy en mexico, a quien llamo?"), &[NoTopic, Says("Todavía no tengo números verificados"), Region(None)]),
            (Say("/language en"), &[]),
            (Say("i want to kill myself"), &[Crisis(&["self-harm"])]),
            (Say("im in the uk, who do i call"), &[FirstLine("999"), Says("116 123"), Region(Some("gb"))]),
            (Say("/region united states"), &[Region(None)]),
            // Without crisis guidance just before, the same words are a question for a topic.
            (Say("who do i call"), &[Topic("getting-help")]),
        ],
    );
}

/// For every country and every kind of crisis: the guidance opens with that country's
/// emergency or crisis number, and gives no American number the country does not share.
#[test]
fn every_crisis_block_shows_the_chosen_countrys_numbers_first() {
    let set = content();
    assert!(set.regions.len() >= 5, "expected the shipped countries, found {}", set.regions.len());
    let messages = [
        ("overdose", "my son took a whole bottle of pins"),
        ("withdrawal", "ran out of my klonopin 2 days ago and shaking"),
        ("self-harm", "i want to die"),
    ];
    for region in set.regions.iter().skip(1) {
        let r = &region.region;
        let crisis_number = r.crisis.as_ref().map(|c| c.number.clone()).unwrap_or_default();
        for (kind, message) in messages {
            let state = State { region: Some(r.code.clone()), ..State::default() };
            let turn = step(&state, &Input::Text(message), set);
            let kinds: Vec<&str> = turn.crisis.iter().map(|k| k.name()).collect();
            assert!(kinds.contains(&kind), "{}: {message:?} gave {kinds:?}", r.code);
            let first = &turn.messages[0].text.plain;
            let first_line = first.lines().next().unwrap_or("");
            assert!(
                first_line.contains(&r.emergency) || first_line.contains(&crisis_number),
                "{}: {kind} opens with {first_line:?}",
                r.code
            );
            for us in ["911", POISON, SAMHSA, "call or text 988"] {
                let theirs = r.emergency == us || crisis_number == us || (us == "call or text 988" && crisis_number == "988");
                assert!(theirs || !first.contains(us), "{}: the {kind} guidance gives the American {us}: {first}", r.code);
            }
        }
    }
}

/// Clonazepam's other brand names are the same medicine everywhere a name counts.
#[test]
fn rivotril_and_other_brand_names_are_clonazepam() {
    check(
        "brands",
        &[
            (Say("what is rivotril"), &[Topic("what-is-klonopin"), Says("Rivotril"), Crisis(&[])]),
            (Say("ran out of my rivotril 2 days ago and im shaking"), &[Crisis(&["withdrawal"]), FirstLine("911")]),
            (Say("my daughter swallowed a bunch of paxam"), &[Crisis(&["overdose"]), FirstLine("911")]),
            (Say("is ribotril addictive"), &[Topic("is-it-addictive")]),
        ],
    );
}

/// The self-check's result gives the chosen country's numbers, like the crisis blocks: the
/// UK's emergency number and Samaritans, no American helpline, and where the UK has no
/// national drug helpline, the doctor or local health service.
#[test]
fn a_self_check_result_gives_the_chosen_countrys_numbers() {
    let result = |region: &str, yes: bool| {
        let mut chat = Chat::new();
        chat.run(&Say(Box::leak(format!("/region {region}").into_boxed_str())));
        chat.run(&Say("/selfcheck"));
        for i in 0..11u8 {
            chat.run(&RawButton(Box::leak(format!("v1:q:{i}:{}", if yes { 'y' } else { 'n' }).into_boxed_str())));
        }
        let last = chat.last.expect("a reply");
        last.messages.last().expect("the result").text.plain.clone()
    };
    let uk = result("uk", true);
    for wanted in ["999", "116 123", "local health service"] {
        assert!(uk.contains(wanted), "the band for 11 in the UK gives {wanted}: {uk}");
    }
    for american in [SAMHSA, "911", "988", "FindTreatment", "are American"] {
        assert!(!uk.contains(american), "the band for 11 in the UK gives {american}: {uk}");
    }
    let us = result("united states", true);
    for wanted in [SAMHSA, "911", "call or text 988", "FindTreatment.gov"] {
        assert!(us.contains(wanted), "the band for 11 in the US gives {wanted}: {us}");
    }
    assert!(!us.contains("local health service"), "the US has a helpline: {us}");
    // The lowest band: a paragraph stays when its helpline line goes.
    let low = result("uk", false);
    assert!(low.contains("talk to your prescriber") && !low.contains(SAMHSA), "{low}");
}

/// The app's language ("en-GB") suggests a country: a button with its numbers under crisis
/// guidance, never a silent switch; once a country is chosen, no suggestion.
#[test]
fn the_apps_language_suggests_a_country_without_switching() {
    use klonopin_bot::engine::{country_of_language, step_hinted};
    assert_eq!(country_of_language("en-GB").as_deref(), Some("gb"));
    assert_eq!(country_of_language("pt_br").as_deref(), Some("br"));
    assert_eq!(country_of_language("en"), None);
    assert_eq!(country_of_language("zh-hans"), None);
    let set = content();
    let buttons =
        |turn: &Turn| -> Vec<String> { turn.messages.iter().flat_map(|m| m.buttons.iter().flatten()).map(|b| b.action.encode()).collect() };
    let turn = step_hinted(&State::default(), &Input::Text("i took too many pills"), set, Some("gb"));
    assert!(turn.messages[0].text.plain.lines().next().unwrap_or("").contains("911"), "still the default numbers");
    assert!(buttons(&turn).contains(&"v1:g:gb".to_owned()), "{:?}", buttons(&turn));
    assert!(matches!(&turn.next, Next::Keep(s) if s.region.is_none()), "a hint is not a choice");
    let chosen = State { region: Some("au".into()), ..State::default() };
    let turn = step_hinted(&chosen, &Input::Text("i took too many pills"), set, Some("gb"));
    assert!(!buttons(&turn).contains(&"v1:g:gb".to_owned()));
    // From the first message too (/start), until a country is chosen.
    let start = step_hinted(&State::default(), &Input::from_text("/start"), set, Some("gb"));
    assert!(buttons(&start).contains(&"v1:g:gb".to_owned()), "{:?}", buttons(&start));
    let start = step_hinted(&chosen, &Input::from_text("/start"), set, Some("gb"));
    assert!(!buttons(&start).contains(&"v1:g:gb".to_owned()));
    // A hint for a country the bot has no numbers for, or the default, adds nothing.
    let turn = step_hinted(&State::default(), &Input::Text("/crisis"), set, Some("us"));
    assert!(!buttons(&turn).iter().any(|b| b == "v1:g:us"));
}

/// A topic that gives numbers is written out with the chosen country's: someone in India who
/// is thinking of suicide reads "call Tele-MANAS on 14416", never "call or text 988", in the
/// guidance and in the topic's answer; a country typed in either language is understood.
#[test]
fn a_topic_that_gives_numbers_gives_the_chosen_countrys() {
    check(
        "regional topics",
        &[
            (Say("/region india"), &[Region(Some("in"))]),
            (
                Say("i dont want to live anymore"),
                &[
                    Crisis(&["self-harm"]),
                    Topic("suicidal-thoughts"),
                    Says("Tele-MANAS on 14416 right now"),
                    Lacks("call or text 988"),
                    Lacks("911"),
                    Lacks("are American"),
                ],
            ),
            (Say("reino unido"), &[Region(Some("gb"))]),
            (Say("/region united states"), &[Region(None)]),
            (
                Say("what should i do if i'm having suicidal thoughts"),
                &[Topic("suicidal-thoughts"), Says("please call or text 988 right now")],
            ),
        ],
    );
}
