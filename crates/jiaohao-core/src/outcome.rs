//! How a visit ended at the window (办理结果): done in one visit (办结), documents missing
//! (补正, naming which of the service's 一次性告知 documents), refused (不予受理, with the
//! reason) or referred to an office outside the hall (转办). Moving a ticket to another service
//! or window inside the hall is a transfer, not an outcome.

use crate::error::Error;
use crate::service::Service;

/// The longest reason or office name, in characters.
pub const OUTCOME_TEXT_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Outcome {
    /// 办结: the matter was done in this visit.
    #[default]
    Done,
    /// 补正: the citizen must come back with these documents, each one of the service's
    /// documents to bring (its Chinese name), none twice.
    DocumentsMissing(Vec<String>),
    /// 不予受理: the matter cannot be accepted, for this reason.
    Refused(String),
    /// 转办: the matter belongs to this office outside the hall.
    Referred(String),
}

impl Outcome {
    /// The kinds' stable names, in the order a clerk is offered them.
    pub const KINDS: [&'static str; 4] = ["done", "documents_missing", "refused", "referred"];

    /// The stable name of the outcome's kind, such as `documents_missing`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::DocumentsMissing(_) => "documents_missing",
            Outcome::Refused(_) => "refused",
            Outcome::Referred(_) => "referred",
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done)
    }

    /// Builds an outcome from its kind's name and its parts, saying what is wrong or missing;
    /// texts are trimmed. Whether the documents belong to the service is [`Outcome::check`]'s
    /// question.
    pub fn parse(
        kind: &str,
        documents: Vec<String>,
        reason: Option<&str>,
        office: Option<&str>,
    ) -> Result<Outcome, Error> {
        let text = |value: Option<&str>, what: &str| -> Result<String, Error> {
            let value = value.map(str::trim).unwrap_or_default();
            if value.is_empty() || value.chars().count() > OUTCOME_TEXT_MAX {
                return Err(Error::invalid(format!(
                    "outcome '{kind}' needs {what} of 1 to {OUTCOME_TEXT_MAX} characters"
                )));
            }
            Ok(value.to_owned())
        };
        let unexpected = |present: bool, what: &str| -> Result<(), Error> {
            if present {
                return Err(Error::invalid(format!("outcome '{kind}' takes no {what}")));
            }
            Ok(())
        };
        let outcome = match kind {
            "done" => {
                unexpected(!documents.is_empty(), "documents")?;
                unexpected(reason.is_some(), "reason")?;
                unexpected(office.is_some(), "office")?;
                Outcome::Done
            }
            "documents_missing" => {
                unexpected(reason.is_some(), "reason")?;
                unexpected(office.is_some(), "office")?;
                if documents.is_empty() {
                    return Err(Error::invalid(
                        "outcome 'documents_missing' names at least one missing document",
                    ));
                }
                Outcome::DocumentsMissing(documents.iter().map(|d| d.trim().to_owned()).collect())
            }
            "refused" => {
                unexpected(!documents.is_empty(), "documents")?;
                unexpected(office.is_some(), "office")?;
                Outcome::Refused(text(reason, "a reason")?)
            }
            "referred" => {
                unexpected(!documents.is_empty(), "documents")?;
                unexpected(reason.is_some(), "reason")?;
                Outcome::Referred(text(office, "an office")?)
            }
            other => {
                return Err(Error::invalid(format!(
                    "'{other}' is not an outcome: done, documents_missing, refused or referred"
                )));
            }
        };
        Ok(outcome)
    }

    /// Checks the outcome against the service the ticket was in: missing documents are at
    /// least one, each from the service's list (一次性告知), none twice.
    pub fn check(&self, service: &Service) -> Result<(), Error> {
        match self {
            Outcome::DocumentsMissing(documents) => {
                if documents.is_empty() {
                    return Err(Error::invalid(
                        "outcome 'documents_missing' names at least one missing document",
                    ));
                }
                for (i, document) in documents.iter().enumerate() {
                    if !service.documents_zh.contains(document) {
                        return Err(Error::invalid(format!(
                            "'{document}' is not one of the documents of service '{}'",
                            service.code
                        )));
                    }
                    if documents[..i].contains(document) {
                        return Err(Error::invalid(format!("'{document}' is named twice")));
                    }
                }
                Ok(())
            }
            Outcome::Refused(text) | Outcome::Referred(text) => {
                if text.trim().is_empty() || text.chars().count() > OUTCOME_TEXT_MAX {
                    return Err(Error::invalid(format!(
                        "outcome '{}' needs a text of 1 to {OUTCOME_TEXT_MAX} characters",
                        self.kind()
                    )));
                }
                Ok(())
            }
            Outcome::Done => Ok(()),
        }
    }
}
