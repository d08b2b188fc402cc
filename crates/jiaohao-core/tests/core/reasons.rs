//! Why a window is paused or closed: a fixed class and the clerk's words; the events carry
//! exactly the reason given, and the history tells each span with it.

use jiaohao_core::history::{Activity, WindowSpan};
use jiaohao_core::{
    Absence, AbsenceClass, ClockTime, Command, Event, Fact, Hall, History, LocalDate, Millis, Now,
    WindowDef, WindowNumber,
};
use proptest::prelude::*;

/// 2026-03-02 08:00 in Asia/Shanghai.
const EIGHT_MS: i64 = 1_772_409_600_000;

fn at(minutes: u16) -> Now {
    Now {
        at: Millis(EIGHT_MS + i64::from(minutes) * Millis::MINUTE),
        date: LocalDate::new(2026, 3, 2).unwrap(),
        time: ClockTime::from_minutes(8 * 60 + minutes).unwrap(),
    }
}

fn win() -> WindowNumber {
    WindowNumber::new(1).unwrap()
}

#[test]
fn reasons_parse_from_class_names_and_words() {
    for class in AbsenceClass::ALL {
        assert_eq!(AbsenceClass::parse(class.as_str()), Some(class));
        assert_eq!(AbsenceClass::parse(class.name_zh()), Some(class));
    }
    assert_eq!(
        Absence::parse("training", Some(" 新系统 ")),
        Ok(Absence {
            class: AbsenceClass::Training,
            note: "新系统".into()
        })
    );
    assert!(Absence::parse("nap", None).is_err());
    assert!(Absence::parse("other", Some(&"字".repeat(201))).is_err());
    // Words from before classes: a class name is its class, anything else is `other`.
    assert_eq!(
        Absence::from_words("系统故障").class,
        AbsenceClass::SystemFault
    );
    assert_eq!(
        Absence::from_words("去复印"),
        Absence {
            class: AbsenceClass::Other,
            note: "去复印".into()
        }
    );
}

fn any_reason() -> impl Strategy<Value = Absence> {
    (0..6usize, "[ 停会a-z]{0,3}", prop::bool::weighted(0.1)).prop_map(|(class, note, long)| {
        Absence {
            class: AbsenceClass::ALL[class],
            note: if long {
                "长".repeat(201)
            } else {
                note.trim().to_owned()
            },
        }
    })
}

proptest! {
    /// Whatever reason a clerk gives, the pause and the close record exactly it (or are
    /// refused, for a note that runs long, changing nothing), and the history's spans carry it.
    #[test]
    fn pauses_and_closes_keep_their_reason(pause in any_reason(), close in any_reason()) {
        let mut hall = Hall::new();
        let mut history = History::new();
        let mut spans: Vec<WindowSpan> = Vec::new();
        let mut run = |hall: &mut Hall, history: &mut History, command: Command, minute: u16| {
            let result = hall.apply(&command, at(minute));
            if let Ok(events) = &result {
                for event in events {
                    history.fold(event, at(minute).at, "clerk:zhang@1", |fact| {
                        if let Fact::WindowSpan(span) = fact {
                            spans.push(span.clone());
                        }
                    });
                }
            }
            result
        };
        let def = WindowDef {
            number: win(),
            name_zh: "1号窗口".into(),
            name_en: "Window 1".into(),
            services: Vec::new(),
            breaks: Vec::new(),
        };
        run(&mut hall, &mut history, Command::AddWindow(def), 0).unwrap();
        run(&mut hall, &mut history, Command::Open { window: win() }, 1).unwrap();
        let paused = run(&mut hall, &mut history, Command::Pause { window: win(), reason: pause.clone() }, 2);
        let long = |r: &Absence| r.note.chars().count() > 200;
        match paused {
            Ok(events) => {
                prop_assert!(!long(&pause));
                prop_assert_eq!(events, vec![Event::WindowPaused { window: win(), reason: pause.clone() }]);
            }
            Err(_) => prop_assert!(long(&pause)),
        }
        let closed = run(&mut hall, &mut history, Command::Close { window: win(), reason: Some(close.clone()) }, 3);
        match closed {
            Ok(events) => {
                prop_assert!(!long(&close));
                prop_assert_eq!(events, vec![Event::WindowClosed { window: win(), reason: Some(close.clone()) }]);
            }
            Err(_) => prop_assert!(long(&close)),
        }
        let mut closing = Vec::new();
        history.close_windows(at(9).at, |fact| {
            if let Fact::WindowSpan(span) = fact {
                closing.push(span.clone());
            }
        });
        let last = closing.last().map(|span| span.activity.clone());
        spans.extend(closing);
        if !long(&pause) {
            let told = spans.iter().any(|s| matches!(&s.activity, Activity::Paused { reason, .. } if *reason == pause));
            prop_assert!(told, "{spans:?}");
        }
        if !long(&close) {
            prop_assert_eq!(last, Some(Activity::Closed { reason: Some(close) }));
        }
    }
}
