//! The halls the city follows: registering one (its token sealed with the key file, never
//! shown again), listing them, and the connection state the board shows.

use tokio_postgres::GenericClient;

use crate::{CityError, KeyFile};

/// A hall as the follower needs it.
#[derive(Debug, Clone)]
pub struct HallEntry {
    pub id: i32,
    pub name: String,
    pub url: String,
    pub token_sealed: Vec<u8>,
}

/// Where a hall's link stands, as the board says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Never,
    Connected,
    Unreachable,
    TokenRefused,
    Error,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Never => "never",
            LinkState::Connected => "connected",
            LinkState::Unreachable => "unreachable",
            LinkState::TokenRefused => "token_refused",
            LinkState::Error => "error",
        }
    }

    pub fn parse(text: &str) -> LinkState {
        match text {
            "connected" => LinkState::Connected,
            "unreachable" => LinkState::Unreachable,
            "token_refused" => LinkState::TokenRefused,
            "error" => LinkState::Error,
            _ => LinkState::Never,
        }
    }
}

/// Registers a hall; its token is sealed with the key file. Returns the hall's id.
pub async fn add(
    client: &impl GenericClient,
    key: &KeyFile,
    name: &str,
    url: &str,
    token: &str,
) -> Result<i32, CityError> {
    let name = name.trim();
    let url = url.trim().trim_end_matches('/');
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CityError::Invalid(
            "a hall needs a name of 1 to 100 characters".into(),
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CityError::Invalid(format!(
            "'{url}' is not a hall address like http://192.168.1.20:8080"
        )));
    }
    if token.trim().is_empty() {
        return Err(CityError::Invalid(
            "the hall's ingest token is empty".into(),
        ));
    }
    let sealed = key.seal(name, token.trim())?;
    let row = client
        .query_opt(
            "INSERT INTO halls (name, url, token_sealed) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[&name, &url, &sealed],
        )
        .await?;
    row.map(|r| r.get(0))
        .ok_or_else(|| CityError::Invalid(format!("a hall named {name} is registered already")))
}

/// Replaces a hall's token (after the hall revoked the old one).
pub async fn set_token(
    client: &impl GenericClient,
    key: &KeyFile,
    name: &str,
    token: &str,
) -> Result<(), CityError> {
    let sealed = key.seal(name, token.trim())?;
    let n = client
        .execute(
            "UPDATE halls SET token_sealed = $2 WHERE name = $1",
            &[&name, &sealed],
        )
        .await?;
    if n == 0 {
        return Err(CityError::Invalid(format!("no hall named {name}")));
    }
    Ok(())
}

pub async fn list(client: &impl GenericClient) -> Result<Vec<HallEntry>, CityError> {
    let rows = client
        .query(
            "SELECT id, name, url, token_sealed FROM halls ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| HallEntry {
            id: r.get(0),
            name: r.get(1),
            url: r.get(2),
            token_sealed: r.get(3),
        })
        .collect())
}

/// Records how the link to a hall stands; `state_since` moves only when the state changes.
pub async fn set_state(
    client: &impl GenericClient,
    hall: i32,
    state: LinkState,
    detail: &str,
) -> Result<(), CityError> {
    let contact = if state == LinkState::Connected {
        ", last_contact = now()"
    } else {
        ""
    };
    client
        .execute(
            &format!(
                "UPDATE halls SET state_since = CASE WHEN state = $2 THEN state_since ELSE now() END,
                 state = $2, state_detail = $3{contact} WHERE id = $1"
            ),
            &[&hall, &state.as_str(), &detail],
        )
        .await?;
    Ok(())
}
