//! Checks on what clients send, done once at the edge so the rest of the
//! code handles only acceptable values. Every failure is a 4xx JSON answer.

use kit::ApiError;

/// A required text field: present, not blank once trimmed, no NUL byte
/// (PostgreSQL cannot store one in `text`, and would answer with an error
/// that is not the client's to read), at most `max` characters.
pub fn required_text(field: &str, value: Option<String>, max: usize) -> Result<String, ApiError> {
    let value =
        value.ok_or_else(|| ApiError::Unprocessable(format!("campo '{field}' é obrigatório")))?;
    checked_text(field, value, max)
}

/// An optional text field: `None` stays `None`; a given value is checked as
/// [`required_text`] does.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    value.map(|v| checked_text(field, v, max)).transpose()
}

fn checked_text(field: &str, value: String, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::Unprocessable(format!(
            "campo '{field}' não pode ser vazio"
        )));
    }
    if value.contains('\0') {
        return Err(ApiError::Unprocessable(format!(
            "campo '{field}' contém um byte NUL"
        )));
    }
    if value.chars().count() > max {
        return Err(ApiError::Unprocessable(format!(
            "campo '{field}' tem mais de {max} caracteres"
        )));
    }
    Ok(value.to_owned())
}

/// An e-mail address, loosely: `local@domain`, no spaces.
pub fn email(value: String) -> Result<String, ApiError> {
    let value = checked_text("email", value, 254)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(value)
    } else {
        Err(ApiError::Unprocessable(format!(
            "'{value}' não é um e-mail válido"
        )))
    }
}

/// A row id from the path: a positive integer that fits PostgreSQL's
/// `integer` (the `SERIAL` columns).
pub fn id(raw: &str) -> Result<i32, ApiError> {
    let number: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("id deve ser um número inteiro, não '{raw}'")))?;
    match i32::try_from(number) {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadRequest(format!(
            "id fora do intervalo: deve estar entre 1 e {}",
            i32::MAX
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_positive_integers_in_range() {
        assert_eq!(id("7").unwrap(), 7);
        for bad in [
            "abc",
            "-1",
            "0",
            "1.5",
            "99999999999",
            "1;DROP TABLE users",
            "",
        ] {
            assert!(matches!(id(bad), Err(ApiError::BadRequest(_))), "{bad}");
        }
    }

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(required_text("t", Some("  oi ".into()), 10).unwrap(), "oi");
        assert!(required_text("t", None, 10).is_err());
        assert!(required_text("t", Some("   ".into()), 10).is_err());
        assert!(required_text("t", Some("a\0b".into()), 10).is_err());
        assert!(required_text("t", Some("ç".repeat(11)), 10).is_err());
        assert_eq!(optional_text("t", None, 10).unwrap(), None);
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(email("ana@test.com".into()).is_ok());
        for bad in ["ana", "@x", "ana@", "a b@c", "a@b@c"] {
            assert!(email(bad.into()).is_err(), "{bad}");
        }
    }
}
