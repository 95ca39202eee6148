//! What an identifier or a free text the service stores may be. One rule for every place
//! that takes one (a bill request, the registry, the ledger), so that a listing page stays a
//! page and no stored text can break a log line or a spreadsheet row.

/// An identifier (an enterprise id): 1 to 64 characters, none of them a control character.
pub const MOST_ID_CHARS: usize = 64;
/// A free text (a name, a document number, a reason): at most 500 characters, no control
/// characters.
pub const MOST_TEXT_CHARS: usize = 500;

/// Why `id` is not an identifier, if it is not.
pub fn identifier(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("must not be empty".into());
    }
    within(id, MOST_ID_CHARS)
}

/// Why `text` is not a free text, if it is not.
pub fn free_text(text: &str) -> Result<(), String> {
    within(text, MOST_TEXT_CHARS)
}

fn within(text: &str, most: usize) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        return Err("must not hold control characters (line breaks, tabs, NUL)".into());
    }
    let count = text.chars().take(most + 1).count();
    if count > most {
        return Err(format!("must be at most {most} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_texts_are_bounded_and_printable() {
        assert!(identifier("XZ-0001").is_ok());
        assert!(identifier(&"钢".repeat(64)).is_ok());
        assert!(identifier(&"钢".repeat(65)).is_err());
        assert!(identifier(" ").is_err());
        assert!(identifier("a\nb").is_err());
        assert!(free_text("").is_ok());
        assert!(free_text(&"x".repeat(500)).is_ok());
        assert!(free_text(&"x".repeat(501)).is_err());
        assert!(free_text("晋政办发〔2020〕75号\t").is_err());
    }
}
