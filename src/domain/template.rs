//! The JSON template grammar of `[payload] source = "json"`: one `{{bytes}}` placeholder
//! that grows the body to each swept size, or `{{bytes:N}}` for a fixed N bytes.

/// The placeholder a JSON template grows to each swept size.
pub const FILL: &str = "{{bytes}}";

/// Checks a JSON template: at most one `{{bytes}}` or `{{bytes:N}}` placeholder.
pub fn check(text: &str) -> Result<(), String> {
    let count = text.matches("{{bytes").count();
    if count > 1 {
        return Err("has more than one `{{bytes}}` placeholder; keep one".into());
    }
    if let Some(n) = fixed_fill(text) {
        n.map_err(|_| {
            "`{{bytes:N}}` needs a whole number of bytes, e.g. `{{bytes:1024}}`".to_string()
        })?;
    }
    Ok(())
}

/// The N of a `{{bytes:N}}` placeholder, if the template has one.
pub fn fixed_fill(text: &str) -> Option<Result<(usize, std::ops::Range<usize>), ()>> {
    let start = text.find("{{bytes:")?;
    let Some(len) = text[start..].find("}}") else {
        return Some(Err(()));
    };
    let digits = &text[start + 8..start + len];
    Some(
        digits
            .parse()
            .map(|n| (n, start..start + len + 2))
            .map_err(|_| ()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert!(check(r#"{"a":"{{bytes}}","b":"{{bytes}}"}"#).is_err());
        assert!(check(r#"{"a":"{{bytes:x}}"}"#).is_err());
        assert!(check(r#"{"a":"{{bytes:12}}"}"#).is_ok());
    }
}
