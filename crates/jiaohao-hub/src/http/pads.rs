//! Rating pads (评价器): a tablet becomes a device of one window. The admin asks for a
//! one-time code for the window (`POST /api/windows/{n}/pairing`, shown in the console's
//! windows tab); typed on the tablet's page (`/rate`), it turns into a device token of the role
//! `rating_pad` bound to that window, kept by the tablet as a long-lived cookie. The token is
//! an ordinary row of `api_tokens`, so the pairing survives restarts and reaches a standby
//! with the other rows beside the log; unpairing revokes it. Only a pad of the window (or an
//! admin) may rate the ticket just finished there.
//!
//! The codes themselves live in memory for their ten minutes: a code lost to a restart is
//! simply asked for again.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiaohao_core::booking::CODE_ALPHABET;
use jiaohao_core::{Millis, WindowNumber};
use jiaohao_store::{ApiToken, Role};
use jiaohao_wire as wire;

use crate::clock::rfc3339;
use crate::http::api::{Body, row_id};
use crate::http::auth::Principal;
use crate::http::error::{ApiError, storage};
use crate::http::state::AppState;

/// The cookie a paired tablet keeps its device token in.
pub const PAD_COOKIE: &str = "jiaohao_pad";
/// How long a pairing code works.
pub const CODE_TTL_MS: i64 = 10 * Millis::MINUTE;
/// The length of a pairing code: 32^6, about a billion codes, against a handful live at once
/// and a rate-limited route to guess on.
const CODE_LEN: usize = 6;
/// The most codes live at once; asking for more drops the oldest.
const MAX_CODES: usize = 50;
/// How long the tablet keeps its cookie: about ten years (until the admin unpairs it).
const PAD_COOKIE_MAX_AGE_S: i64 = 10 * 365 * 24 * 3600;

/// A code shown and not yet used.
#[derive(Debug)]
struct Code {
    window: u16,
    expires: Millis,
    /// The admin who asked for it: the pad's token is recorded as made by them.
    actor: String,
}

/// The pairing codes shown and not yet used.
#[derive(Debug, Default)]
pub struct Pairings {
    codes: Mutex<HashMap<String, Code>>,
}

impl Pairings {
    /// A new code for `window`, working until `now` plus [`CODE_TTL_MS`].
    fn issue(&self, window: u16, actor: &str, now: Millis) -> (String, Millis) {
        let hex = jiaohao_signin::secret::random_hex(CODE_LEN);
        let code: String = (0..CODE_LEN)
            .map(|i| {
                let byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
                char::from(CODE_ALPHABET[usize::from(byte % 32)])
            })
            .collect();
        let expires = now.plus_ms(CODE_TTL_MS);
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, code| code.expires > now);
        if codes.len() >= MAX_CODES
            && let Some(oldest) = codes
                .iter()
                .min_by_key(|(_, code)| code.expires)
                .map(|(code, _)| code.clone())
        {
            codes.remove(&oldest);
        }
        let shown = Code {
            window,
            expires,
            actor: actor.to_owned(),
        };
        codes.insert(code.clone(), shown);
        (code, expires)
    }

    /// Uses up a code: the window it pairs with and who showed it, if it is live.
    fn take(&self, code: &str, now: Millis) -> Option<(u16, String)> {
        let code = code.trim().to_ascii_uppercase();
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let shown = codes.remove(&code)?;
        (shown.expires > now).then_some((shown.window, shown.actor))
    }
}

fn pad(token: &ApiToken, zone: &jiff::tz::TimeZone) -> Option<wire::RatingPad> {
    (token.role == Role::RatingPad && !token.revoked).then(|| wire::RatingPad {
        id: token.id,
        window: token.window.unwrap_or_default(),
        name: token.name.clone(),
        created_at: rfc3339(token.created_at, zone),
    })
}

fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

/// Who asks at a pad's route: a missing, unknown or revoked credential says to pair first;
/// other refusals (a forged request) stand.
pub fn paired(who: Result<Principal, ApiError>) -> Result<Principal, ApiError> {
    who.map_err(|error| {
        if error.status == StatusCode::UNAUTHORIZED {
            not_paired()
        } else {
            error
        }
    })
}

/// The answer to a page or request that is not a paired pad.
pub fn not_paired() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "not_paired",
        "这台评价器尚未与窗口配对，请管理员在管理后台“窗口”页生成配对码；this rating pad is not paired with a window: ask the admin for a pairing code (admin console, windows)",
    )
}

impl Principal {
    /// Rating at a window: its paired pad, or an admin.
    pub fn require_pad_of(&self, window: WindowNumber) -> Result<(), ApiError> {
        match (self.role, self.window) {
            (Role::Admin, _) => Ok(()),
            (Role::RatingPad, Some(own)) if own == window.get() => Ok(()),
            (Role::RatingPad, own) => Err(ApiError::forbidden(format!(
                "这台评价器属于 {} 号窗口，不能评价 {window} 号窗口的业务；this rating pad belongs to window {}, not window {window}",
                own.unwrap_or_default(),
                own.unwrap_or_default()
            ))),
            _ => Err(ApiError::forbidden(
                "只有本窗口已配对的评价器可以评价；only the window's paired rating pad may rate",
            )),
        }
    }
}

/// `POST /api/windows/{n}/pairing`: the admin asks for a one-time code to pair a tablet with
/// window `n`.
pub async fn create_code(
    State(state): State<AppState>,
    who: Principal,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let window = WindowNumber::parse(&n)?;
    if !state
        .hall_view()
        .windows
        .iter()
        .any(|w| w.number == window.get())
    {
        return Err(jiaohao_core::Error::UnknownWindow(window).into());
    }
    let (code, expires) = state
        .pairings
        .issue(window.get(), &who.actor(), state.now());
    tracing::info!(window = window.get(), actor = %who.actor(), "rating pad pairing code shown");
    Ok(json(
        StatusCode::CREATED,
        &wire::PairingCode {
            window: window.get(),
            code,
            expires_at: rfc3339(expires, &state.zone()),
        },
    ))
}

/// `POST /api/rating-pad`: a tablet types the code; it becomes its window's rating pad and
/// gets the cookie that says so.
pub async fn pair(
    State(state): State<AppState>,
    Body(request): Body<wire::PairRequest>,
) -> Result<Response, ApiError> {
    if request.code.len() > 32 {
        return Err(ApiError::bad_request(
            "a pairing code has 6 letters and digits",
        ));
    }
    let (window, actor) = state.pairings.take(&request.code, state.now()).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "配对码不正确或已过期，请管理员重新生成；the pairing code is wrong or expired: ask the admin for a new one",
        )
    })?;
    let zone = state.zone();
    let (secret, paired) = state
        .writer
        .store(move |store, now| {
            let secret = crate::secret::api_token();
            let name = format!("{window}号窗口评价器");
            let id = store
                .add_token(
                    &secret,
                    Role::RatingPad,
                    Some(window),
                    &name,
                    now.at,
                    &actor,
                )
                .map_err(storage("cannot save a rating pad"))?;
            tracing::info!(id, window, "rating pad paired");
            Ok::<_, ApiError>((
                secret,
                wire::RatingPad {
                    id,
                    window,
                    name,
                    created_at: rfc3339(now.at, &zone),
                },
            ))
        })
        .await?;
    let mut response = json(StatusCode::CREATED, &paired);
    let cookie = jiaohao_signin::web::session_cookie(PAD_COOKIE, &secret, PAD_COOKIE_MAX_AGE_S);
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `GET /api/rating-pad`: which window this tablet rates for (401 `not_paired` if none).
pub async fn me(
    State(state): State<AppState>,
    who: Result<Principal, ApiError>,
) -> Result<Response, ApiError> {
    let who = paired(who)?;
    if who.role != Role::RatingPad {
        return Err(ApiError::forbidden(format!(
            "a {} is no rating pad",
            who.role.as_str()
        )));
    }
    let Principal {
        role: Role::RatingPad,
        window: Some(window),
        via: crate::http::auth::Via::Token { id },
        name,
        ..
    } = who
    else {
        return Err(not_paired());
    };
    let created_at = state
        .read(move |store| store.list_tokens())
        .await?
        .into_iter()
        .find(|token| token.id == id)
        .map(|token| token.created_at)
        .unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        &wire::RatingPad {
            id,
            window,
            name,
            created_at: rfc3339(created_at, &state.zone()),
        },
    ))
}

/// `GET /api/rating-pads`: the paired pads, for the admin.
pub async fn list(State(state): State<AppState>, who: Principal) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let zone = state.zone();
    let pads: Vec<wire::RatingPad> = state
        .read(move |store| store.list_tokens())
        .await?
        .iter()
        .filter_map(|token| pad(token, &zone))
        .collect();
    Ok(json(StatusCode::OK, &pads))
}

/// `DELETE /api/rating-pads/{id}`: the admin unpairs a pad; its cookie stops working at once.
pub async fn unpair(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let id = row_id(&id, "rating pad")?;
    let actor = who.actor();
    let revoked = state
        .writer
        .store(move |store, now| {
            let is_pad = store
                .list_tokens()
                .map_err(storage("cannot read the tokens"))?
                .iter()
                .any(|token| token.id == id && token.role == Role::RatingPad && !token.revoked);
            if !is_pad {
                return Ok(false);
            }
            let revoked = store
                .revoke_token(id, now.at, &actor)
                .map_err(storage("cannot unpair a rating pad"))?;
            tracing::info!(id, %actor, "rating pad unpaired");
            Ok::<_, ApiError>(revoked)
        })
        .await?;
    if revoked {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "there is no paired rating pad {id}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_pairs_once_and_only_while_it_lives() {
        let pairings = Pairings::default();
        let (code, expires) = pairings.issue(3, "admin:li", Millis(1_000));
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(expires, Millis(1_000 + CODE_TTL_MS));
        assert_eq!(
            pairings.take(&code.to_lowercase(), Millis(2_000)),
            Some((3, "admin:li".to_owned()))
        );
        assert_eq!(pairings.take(&code, Millis(2_000)), None);
        let (late, _) = pairings.issue(5, "admin:li", Millis(1_000));
        assert_eq!(pairings.take(&late, Millis(1_000 + CODE_TTL_MS)), None);
    }

    #[test]
    fn codes_live_at_once_are_bounded() {
        let pairings = Pairings::default();
        for i in 0..(MAX_CODES as i64 + 20) {
            pairings.issue(1, "admin:li", Millis(i));
        }
        assert!(pairings.codes.lock().unwrap().len() <= MAX_CODES);
    }
}
