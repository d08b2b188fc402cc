//! Conversions between the core's definitions of the hall (its settings, services and
//! windows) and their wire form, for the API and hall files. The event log has a form of its
//! own (`jiaohao_store::stored`), so the API can change without changing the log.

use jiaohao_core::booking::{
    BookingSettings, DEFAULT_CANCEL_BEFORE_MIN, DEFAULT_CHECK_IN_AFTER_MIN,
    DEFAULT_CHECK_IN_BEFORE_MIN, DEFAULT_DAYS_AHEAD, DEFAULT_SLOT_MIN,
};
use jiaohao_core::{
    BookingRules, ClockTime, Error, HallSettings, Prefix, Service, ServiceCode, WindowDef,
};
use jiaohao_wire as wire;

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
        identity: service.identity_required.then(|| "required".to_owned()),
        booking: None,
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
        identity_required: match def.identity.as_deref() {
            None | Some("none") => false,
            Some("required") => true,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "identity is 'required' or 'none', not '{other}'"
                )));
            }
        },
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
    WindowDef::parse(
        u32::from(def.number),
        &def.name_zh,
        &def.name_en,
        &def.services,
        &def.breaks,
    )
}

pub fn settings_to_wire(settings: &HallSettings) -> wire::HallSettings {
    wire::HallSettings {
        name_zh: settings.name_zh.clone(),
        name_en: settings.name_en.clone(),
        timezone: settings.timezone.clone(),
        notices_zh: settings.notices_zh.clone(),
        notices_en: settings.notices_en.clone(),
        case_due_working_days: Some(settings.case_due_working_days),
        booking_share_pct: Some(settings.booking_share_pct),
        booking_rules: Some(booking_rules_to_wire(&settings.booking_rules)),
    }
}

pub fn booking_rules_to_wire(rules: &BookingRules) -> wire::BookingRules {
    wire::BookingRules {
        lapse_min: rules.lapse_min,
        misses_to_bar: rules.misses_to_bar,
        miss_window_days: rules.miss_window_days,
        bar_days: rules.bar_days,
    }
}

pub fn booking_rules_from_wire(rules: &wire::BookingRules) -> BookingRules {
    BookingRules {
        lapse_min: rules.lapse_min,
        misses_to_bar: rules.misses_to_bar,
        miss_window_days: rules.miss_window_days,
        bar_days: rules.bar_days,
    }
}

pub fn settings_from_wire(settings: &wire::HallSettings) -> Result<HallSettings, Error> {
    let settings = HallSettings {
        name_zh: settings.name_zh.trim().to_owned(),
        name_en: settings.name_en.trim().to_owned(),
        timezone: settings.timezone.trim().to_owned(),
        notices_zh: settings.notices_zh.clone(),
        notices_en: settings.notices_en.clone(),
        rota: jiaohao_core::Rota::default(),
        case_due_working_days: settings
            .case_due_working_days
            .unwrap_or(jiaohao_core::case::DEFAULT_DUE_WORKING_DAYS),
        booking_share_pct: settings
            .booking_share_pct
            .unwrap_or(jiaohao_core::booking::DEFAULT_SHARE_PCT),
        booking_rules: settings
            .booking_rules
            .as_ref()
            .map(booking_rules_from_wire)
            .unwrap_or_default(),
    };
    settings.validate()?;
    Ok(settings)
}

pub fn booking_settings_to_wire(settings: &BookingSettings) -> wire::BookingSettingsDef {
    wire::BookingSettingsDef {
        slot_min: Some(settings.slot_min),
        share_pct: None,
        capacities: settings.capacities.clone(),
        days_ahead: Some(settings.days_ahead),
        cancel_before_min: Some(settings.cancel_before_min),
        check_in_before_min: Some(settings.check_in_before_min),
        check_in_after_min: Some(settings.check_in_after_min),
    }
}

/// A service's booking settings from their wire form (an admin's `PUT` or a hall file's
/// `[service.booking]`). A field left out keeps the service's `current` value, or takes the
/// default when it has none. The places: the `capacities` given; else `share_pct` of the daily
/// cap; else the current capacities if the slot length stays; else the hall's
/// `default_share_pct` of the daily cap.
pub fn booking_settings_from_wire(
    def: &wire::BookingSettingsDef,
    service: &Service,
    current: Option<&BookingSettings>,
    default_share_pct: u8,
) -> Result<BookingSettings, Error> {
    // A field given, else the service's current value, else the default.
    fn kept<T: Copy>(
        field: Option<T>,
        current: Option<&BookingSettings>,
        of: fn(&BookingSettings) -> T,
        default: T,
    ) -> T {
        field.or(current.map(of)).unwrap_or(default)
    }
    let slot_min = kept(def.slot_min, current, |c| c.slot_min, DEFAULT_SLOT_MIN);
    let by_share = |share: u8| -> Result<Vec<u32>, Error> {
        if share > 100 {
            return Err(Error::invalid(format!(
                "share_pct must be 0 to 100 per cent, not {share}"
            )));
        }
        Ok(BookingSettings::from_share(service, slot_min, share)?.capacities)
    };
    let capacities = match (def.share_pct, def.capacities.is_empty()) {
        (Some(_), false) => {
            return Err(Error::invalid("give share_pct or capacities, not both"));
        }
        (None, false) => def.capacities.clone(),
        (Some(share), true) => by_share(share)?,
        (None, true) => match current {
            Some(current) if current.slot_min == slot_min => current.capacities.clone(),
            _ => by_share(default_share_pct)?,
        },
    };
    let settings = BookingSettings {
        slot_min,
        capacities,
        days_ahead: kept(
            def.days_ahead,
            current,
            |c| c.days_ahead,
            DEFAULT_DAYS_AHEAD,
        ),
        cancel_before_min: kept(
            def.cancel_before_min,
            current,
            |c| c.cancel_before_min,
            DEFAULT_CANCEL_BEFORE_MIN,
        ),
        check_in_before_min: kept(
            def.check_in_before_min,
            current,
            |c| c.check_in_before_min,
            DEFAULT_CHECK_IN_BEFORE_MIN,
        ),
        check_in_after_min: kept(
            def.check_in_after_min,
            current,
            |c| c.check_in_after_min,
            DEFAULT_CHECK_IN_AFTER_MIN,
        ),
    };
    settings.validate(service)?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_booking_rules_default_to_the_cores() {
        // A rule left out of a hall file or a settings body is the wire type's default; it
        // must be the core's, or the two would drift apart.
        assert_eq!(
            booking_rules_from_wire(&wire::BookingRules::default()),
            BookingRules::default()
        );
        assert_eq!(
            booking_rules_to_wire(&BookingRules::default()),
            wire::BookingRules::default()
        );
    }
}
