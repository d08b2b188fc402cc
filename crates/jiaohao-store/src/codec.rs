//! Conversions between the core's types and their JSON form. The definitions of services,
//! windows and the hall use the wire types, for the API, hall files and the log alike; events
//! have a stored form of their own, which keeps the ticket token (the public stream does not).

use jiaohao_core::{
    Break, ClockTime, Error, Event, HallCalendar, HallSettings, LocalDate, Prefix, Rating,
    RatingReason, Service, ServiceCode, TicketId, TicketNumber, TransferTarget, Weekday, WindowDef,
    WindowNumber,
};
use jiaohao_wire as wire;
use serde::{Deserialize, Serialize};

pub fn service_to_wire(service: &Service) -> wire::ServiceDef {
    wire::ServiceDef {
        code: service.code.to_string(),
        name_zh: service.name_zh.clone(),
        name_en: service.name_en.clone(),
        prefix: service.prefix.to_string(),
        wait_target_min: service.wait_target_min,
        handling_target_min: service.handling_target_min,
        handling_estimate_min: service.handling_estimate_min,
        daily_cap: service.daily_cap,
        hours: service
            .hours
            .map(|(opens, closes)| [opens.to_string(), closes.to_string()]),
        documents_zh: service.documents_zh.clone(),
        documents_en: service.documents_en.clone(),
        fee_note_zh: service.fee_note_zh.clone(),
        fee_note_en: service.fee_note_en.clone(),
        enabled: service.enabled,
    }
}

pub fn service_from_wire(def: &wire::ServiceDef) -> Result<Service, Error> {
    let hours = match &def.hours {
        Some([opens, closes]) => Some((ClockTime::parse(opens)?, ClockTime::parse(closes)?)),
        None => None,
    };
    let service = Service {
        code: ServiceCode::parse(&def.code)?,
        name_zh: def.name_zh.trim().to_owned(),
        name_en: def.name_en.trim().to_owned(),
        prefix: Prefix::parse(&def.prefix)?,
        wait_target_min: def.wait_target_min,
        handling_target_min: def.handling_target_min,
        handling_estimate_min: def.handling_estimate_min,
        daily_cap: def.daily_cap,
        hours,
        documents_zh: def.documents_zh.clone(),
        documents_en: def.documents_en.clone(),
        fee_note_zh: def.fee_note_zh.clone(),
        fee_note_en: def.fee_note_en.clone(),
        enabled: def.enabled,
    };
    service.validate()?;
    Ok(service)
}

pub fn window_to_wire(def: &WindowDef) -> wire::WindowDef {
    wire::WindowDef {
        number: def.number.get(),
        name_zh: def.name_zh.clone(),
        name_en: def.name_en.clone(),
        services: def.services.iter().map(ToString::to_string).collect(),
        breaks: def
            .breaks
            .iter()
            .map(|b| [b.from.to_string(), b.to.to_string()])
            .collect(),
    }
}

pub fn window_from_wire(def: &wire::WindowDef) -> Result<WindowDef, Error> {
    let window = WindowDef {
        number: WindowNumber::new(u32::from(def.number))?,
        name_zh: def.name_zh.trim().to_owned(),
        name_en: def.name_en.trim().to_owned(),
        services: def
            .services
            .iter()
            .map(|code| ServiceCode::parse(code))
            .collect::<Result<_, _>>()?,
        breaks: def
            .breaks
            .iter()
            .map(|[from, to]| {
                Ok(Break {
                    from: ClockTime::parse(from)?,
                    to: ClockTime::parse(to)?,
                })
            })
            .collect::<Result<_, Error>>()?,
    };
    window.validate()?;
    Ok(window)
}

pub fn settings_to_wire(settings: &HallSettings) -> wire::HallSettings {
    wire::HallSettings {
        name_zh: settings.name_zh.clone(),
        name_en: settings.name_en.clone(),
        timezone: settings.timezone.clone(),
        notices_zh: settings.notices_zh.clone(),
        notices_en: settings.notices_en.clone(),
    }
}

pub fn settings_from_wire(settings: &wire::HallSettings) -> Result<HallSettings, Error> {
    let settings = HallSettings {
        name_zh: settings.name_zh.trim().to_owned(),
        name_en: settings.name_en.trim().to_owned(),
        timezone: settings.timezone.trim().to_owned(),
        notices_zh: settings.notices_zh.clone(),
        notices_en: settings.notices_en.clone(),
    };
    settings.validate()?;
    Ok(settings)
}

/// A calendar from weekday names and `YYYY-MM-DD` dates, checked: the one parse the log, the
/// API and hall files share.
pub fn calendar_from_parts(
    working_weekdays: &[String],
    holidays: &[String],
    working_days: &[String],
) -> Result<HallCalendar, Error> {
    let mut calendar = HallCalendar {
        working_weekdays: [false; 7],
        ..HallCalendar::default()
    };
    for name in working_weekdays {
        let day = Weekday::parse(name)?;
        if std::mem::replace(&mut calendar.working_weekdays[day.index()], true) {
            return Err(Error::invalid(format!("{name} is listed twice")));
        }
    }
    let dates = |texts: &[String]| -> Result<std::collections::BTreeSet<LocalDate>, Error> {
        let mut dates = std::collections::BTreeSet::new();
        for text in texts {
            if !dates.insert(LocalDate::parse(text)?) {
                return Err(Error::invalid(format!("{text} is listed twice")));
            }
        }
        Ok(dates)
    };
    calendar.holidays = dates(holidays)?;
    calendar.working_days = dates(working_days)?;
    calendar.validate()?;
    Ok(calendar)
}

/// The stored form of an event: one JSON object with a `type`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Stored {
    DayStarted {
        date: String,
    },
    HallConfigured {
        hall: wire::HallSettings,
    },
    /// Added with the hall calendar; its own plain form (weekday names, `YYYY-MM-DD` dates),
    /// not an API type, so the API can change without changing the log.
    CalendarConfigured {
        working_weekdays: Vec<String>,
        holidays: Vec<String>,
        working_days: Vec<String>,
    },
    ServiceDefined {
        service: wire::ServiceDef,
    },
    ServiceRemoved {
        code: String,
    },
    WindowDefined {
        window: wire::WindowDef,
    },
    WindowRemoved {
        number: u16,
    },
    TicketIssued {
        id: u64,
        number: String,
        service: String,
        green_channel: bool,
        token: String,
        idempotency_key: Option<String>,
    },
    TicketCalled {
        id: u64,
        window: u16,
        recall: bool,
        out_of_order: Option<String>,
    },
    TicketFinished {
        id: u64,
        window: u16,
    },
    TicketNoShow {
        id: u64,
        window: u16,
    },
    TicketTransferred {
        id: u64,
        window: u16,
        to_service: Option<String>,
        to_window: Option<u16>,
    },
    WindowOpened {
        window: u16,
    },
    WindowClosed {
        window: u16,
    },
    WindowPaused {
        window: u16,
        reason: String,
    },
    WindowResumed {
        window: u16,
    },
    TicketRated {
        id: u64,
        window: u16,
        rating: String,
        reason: Option<String>,
    },
}

pub fn event_to_json(event: &Event) -> String {
    let stored = match event {
        Event::DayStarted { date } => Stored::DayStarted {
            date: date.to_string(),
        },
        Event::HallConfigured(settings) => Stored::HallConfigured {
            hall: settings_to_wire(settings),
        },
        Event::CalendarConfigured(calendar) => Stored::CalendarConfigured {
            working_weekdays: Weekday::ALL
                .into_iter()
                .filter(|day| calendar.works_on(*day))
                .map(|day| day.as_str().to_owned())
                .collect(),
            holidays: calendar.holidays.iter().map(ToString::to_string).collect(),
            working_days: calendar
                .working_days
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        Event::ServiceDefined(service) => Stored::ServiceDefined {
            service: service_to_wire(service),
        },
        Event::ServiceRemoved { code } => Stored::ServiceRemoved {
            code: code.to_string(),
        },
        Event::WindowDefined(def) => Stored::WindowDefined {
            window: window_to_wire(def),
        },
        Event::WindowRemoved { number } => Stored::WindowRemoved {
            number: number.get(),
        },
        Event::TicketIssued {
            id,
            number,
            service,
            green_channel,
            token,
            idempotency_key,
        } => Stored::TicketIssued {
            id: id.0,
            number: number.to_string(),
            service: service.to_string(),
            green_channel: *green_channel,
            token: token.clone(),
            idempotency_key: idempotency_key.clone(),
        },
        Event::TicketCalled {
            id,
            window,
            recall,
            out_of_order,
        } => Stored::TicketCalled {
            id: id.0,
            window: window.get(),
            recall: *recall,
            out_of_order: out_of_order.clone(),
        },
        Event::TicketFinished { id, window } => Stored::TicketFinished {
            id: id.0,
            window: window.get(),
        },
        Event::TicketNoShow { id, window } => Stored::TicketNoShow {
            id: id.0,
            window: window.get(),
        },
        Event::TicketTransferred { id, window, to } => {
            let (to_service, to_window) = match to {
                TransferTarget::Service(code) => (Some(code.to_string()), None),
                TransferTarget::Window(number) => (None, Some(number.get())),
            };
            Stored::TicketTransferred {
                id: id.0,
                window: window.get(),
                to_service,
                to_window,
            }
        }
        Event::WindowOpened { window } => Stored::WindowOpened {
            window: window.get(),
        },
        Event::WindowClosed { window } => Stored::WindowClosed {
            window: window.get(),
        },
        Event::WindowPaused { window, reason } => Stored::WindowPaused {
            window: window.get(),
            reason: reason.clone(),
        },
        Event::WindowResumed { window } => Stored::WindowResumed {
            window: window.get(),
        },
        Event::TicketRated {
            id,
            window,
            rating,
            reason,
        } => Stored::TicketRated {
            id: id.0,
            window: window.get(),
            rating: rating.as_str().to_owned(),
            reason: reason.map(|r| r.as_str().to_owned()),
        },
    };
    serde_json::to_string(&stored).expect("stored events serialize")
}

fn window(number: u16) -> Result<WindowNumber, Error> {
    WindowNumber::new(u32::from(number))
}

pub fn event_from_json(text: &str) -> Result<Event, String> {
    let stored: Stored = serde_json::from_str(text).map_err(|e| e.to_string())?;
    stored_to_event(stored).map_err(|e| e.to_string())
}

fn stored_to_event(stored: Stored) -> Result<Event, Error> {
    let event = match stored {
        Stored::DayStarted { date } => Event::DayStarted {
            date: LocalDate::parse(&date)?,
        },
        Stored::HallConfigured { hall } => Event::HallConfigured(settings_from_wire(&hall)?),
        Stored::CalendarConfigured {
            working_weekdays,
            holidays,
            working_days,
        } => Event::CalendarConfigured(calendar_from_parts(
            &working_weekdays,
            &holidays,
            &working_days,
        )?),
        Stored::ServiceDefined { service } => Event::ServiceDefined(service_from_wire(&service)?),
        Stored::ServiceRemoved { code } => Event::ServiceRemoved {
            code: ServiceCode::parse(&code)?,
        },
        Stored::WindowDefined { window } => Event::WindowDefined(window_from_wire(&window)?),
        Stored::WindowRemoved { number } => Event::WindowRemoved {
            number: window(number)?,
        },
        Stored::TicketIssued {
            id,
            number,
            service,
            green_channel,
            token,
            idempotency_key,
        } => Event::TicketIssued {
            id: TicketId(id),
            number: TicketNumber::parse(&number)?,
            service: ServiceCode::parse(&service)?,
            green_channel,
            token,
            idempotency_key,
        },
        Stored::TicketCalled {
            id,
            window: number,
            recall,
            out_of_order,
        } => Event::TicketCalled {
            id: TicketId(id),
            window: window(number)?,
            recall,
            out_of_order,
        },
        Stored::TicketFinished { id, window: number } => Event::TicketFinished {
            id: TicketId(id),
            window: window(number)?,
        },
        Stored::TicketNoShow { id, window: number } => Event::TicketNoShow {
            id: TicketId(id),
            window: window(number)?,
        },
        Stored::TicketTransferred {
            id,
            window: number,
            to_service,
            to_window,
        } => {
            let to = match (to_service, to_window) {
                (Some(code), None) => TransferTarget::Service(ServiceCode::parse(&code)?),
                (None, Some(target)) => TransferTarget::Window(window(target)?),
                _ => {
                    return Err(Error::invalid(
                        "a transfer names exactly one service or window",
                    ));
                }
            };
            Event::TicketTransferred {
                id: TicketId(id),
                window: window(number)?,
                to,
            }
        }
        Stored::WindowOpened { window: number } => Event::WindowOpened {
            window: window(number)?,
        },
        Stored::WindowClosed { window: number } => Event::WindowClosed {
            window: window(number)?,
        },
        Stored::WindowPaused {
            window: number,
            reason,
        } => Event::WindowPaused {
            window: window(number)?,
            reason,
        },
        Stored::WindowResumed { window: number } => Event::WindowResumed {
            window: window(number)?,
        },
        Stored::TicketRated {
            id,
            window: number,
            rating,
            reason,
        } => {
            Event::TicketRated {
                id: TicketId(id),
                window: window(number)?,
                rating: Rating::parse(&rating)
                    .ok_or_else(|| Error::invalid(format!("'{rating}' is not a rating")))?,
                reason: match reason {
                    Some(reason) => Some(RatingReason::parse(&reason).ok_or_else(|| {
                        Error::invalid(format!("'{reason}' is not a rating reason"))
                    })?),
                    None => None,
                },
            }
        }
    };
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_event() -> Vec<Event> {
        let code = |c: &str| ServiceCode::parse(c).unwrap();
        let window = |n: u32| WindowNumber::new(n).unwrap();
        let service = Service {
            code: code("hukou"),
            name_zh: "户籍".into(),
            name_en: "Household registration".into(),
            prefix: Prefix::parse("A").unwrap(),
            wait_target_min: 20,
            handling_target_min: 15,
            handling_estimate_min: 8,
            daily_cap: Some(300),
            hours: Some((
                ClockTime::parse("08:30").unwrap(),
                ClockTime::parse("17:00").unwrap(),
            )),
            documents_zh: vec!["居民户口簿".into()],
            documents_en: vec!["Household register".into()],
            fee_note_zh: "不收费".into(),
            fee_note_en: "Free".into(),
            enabled: true,
        };
        vec![
            Event::DayStarted {
                date: LocalDate::new(2026, 11, 23).unwrap(),
            },
            Event::HallConfigured(HallSettings::default()),
            Event::CalendarConfigured(HallCalendar {
                holidays: [LocalDate::new(2026, 10, 1).unwrap()].into(),
                working_days: [LocalDate::new(2026, 10, 10).unwrap()].into(),
                ..HallCalendar::default()
            }),
            Event::ServiceDefined(service),
            Event::ServiceRemoved {
                code: code("vehicle"),
            },
            Event::WindowDefined(WindowDef {
                number: window(3),
                name_zh: "3号窗口".into(),
                name_en: "Window 3".into(),
                services: vec![code("hukou"), code("id_card")],
                breaks: vec![Break {
                    from: ClockTime::parse("12:00").unwrap(),
                    to: ClockTime::parse("13:30").unwrap(),
                }],
            }),
            Event::WindowRemoved { number: window(9) },
            Event::TicketIssued {
                id: TicketId(41),
                number: TicketNumber::parse("A1000").unwrap(),
                service: code("hukou"),
                green_channel: true,
                token: "0123456789abcdef0123456789abcdef".into(),
                idempotency_key: Some("k-1".into()),
            },
            Event::TicketCalled {
                id: TicketId(41),
                window: window(3),
                recall: false,
                out_of_order: Some("老人行动不便".into()),
            },
            Event::TicketFinished {
                id: TicketId(41),
                window: window(3),
            },
            Event::TicketNoShow {
                id: TicketId(42),
                window: window(3),
            },
            Event::TicketTransferred {
                id: TicketId(43),
                window: window(3),
                to: TransferTarget::Service(code("id_card")),
            },
            Event::TicketTransferred {
                id: TicketId(44),
                window: window(3),
                to: TransferTarget::Window(window(5)),
            },
            Event::WindowOpened { window: window(3) },
            Event::WindowClosed { window: window(3) },
            Event::WindowPaused {
                window: window(3),
                reason: "break".into(),
            },
            Event::WindowResumed { window: window(3) },
            Event::TicketRated {
                id: TicketId(41),
                window: window(3),
                rating: Rating::Dissatisfied,
                reason: Some(RatingReason::RequirementsUnclear),
            },
        ]
    }

    #[test]
    fn every_event_kind_round_trips() {
        let events = every_event();
        let kinds: std::collections::BTreeSet<&str> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds.len(), 17, "one sample of each event kind");
        for event in &events {
            let json = event_to_json(event);
            assert_eq!(event_from_json(&json).as_ref(), Ok(event), "{json}");
        }
    }

    #[test]
    fn a_calendar_is_stored_in_plain_words() {
        let calendar = HallCalendar {
            holidays: [LocalDate::new(2027, 1, 1).unwrap()].into(),
            ..HallCalendar::default()
        };
        let json = event_to_json(&Event::CalendarConfigured(calendar));
        assert_eq!(
            json,
            r#"{"type":"calendar_configured","working_weekdays":["monday","tuesday","wednesday","thursday","friday"],"holidays":["2027-01-01"],"working_days":[]}"#
        );
        for bad in [
            r#"{"type":"calendar_configured","working_weekdays":["someday"],"holidays":[],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-02-30"],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-01-01"],"working_days":["2027-01-01"]}"#,
            r#"{"type":"calendar_configured","working_weekdays":["monday","monday"],"holidays":[],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[],"holidays":["2027-01-01","2027-01-01"],"working_days":[]}"#,
            r#"{"type":"calendar_configured","working_weekdays":[" monday"],"holidays":[],"working_days":[]}"#,
        ] {
            assert!(event_from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_definitions_from_before_breaks_still_decode() {
        let old = r#"{"type":"window_defined","window":{"number":3,"name_zh":"3号窗口","name_en":"Window 3","services":["hukou"]}}"#;
        let Ok(Event::WindowDefined(def)) = event_from_json(old) else {
            panic!("{old} does not decode");
        };
        assert!(def.breaks.is_empty());
        // A window without breaks is stored as before.
        assert!(!event_to_json(&Event::WindowDefined(def)).contains("breaks"));
        let broken = old.replace(
            r#""services":["hukou"]"#,
            r#""services":["hukou"],"breaks":[["13:00","12:00"]]"#,
        );
        assert!(event_from_json(&broken).is_err());
    }

    #[test]
    fn damaged_events_are_refused_with_a_reason() {
        for bad in [
            "",
            "{}",
            r#"{"type":"ticket_called","id":1}"#,
            r#"{"type":"window_opened","window":0}"#,
            r#"{"type":"ticket_transferred","id":1,"window":2,"to_service":null,"to_window":null}"#,
            r#"{"type":"day_started","date":"2026-02-30"}"#,
            r#"{"type":"window_opened","window":1,"extra":true}"#,
            r#"{"type":"ticket_rated","id":1,"window":2,"rating":"great","reason":null}"#,
        ] {
            let error = event_from_json(bad).unwrap_err();
            assert!(!error.is_empty(), "{bad}");
        }
    }
}
