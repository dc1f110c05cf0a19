//! Values from outside (an alert's labels, a receiver's name, a CPA's error
//! body) made fit for one log or decision line: every control character and
//! line separator escaped, and the whole shortened to a bound, so a value can
//! neither split a line nor flood it.

/// `value` on one line of at most `max_chars` characters: control
/// characters (`\n`, `\r`, `\t`, `\u{1b}`, ...) and the Unicode line and
/// paragraph separators are written as Rust escapes (`\n`, `\u{2028}`), and
/// a longer result is cut to `max_chars - 1` characters followed by `…`.
///
/// Idempotent: a value it returned comes back unchanged (backslashes are
/// kept as they are), so a name escaped when it was stored can be passed
/// through again when it is read.
pub fn one_line(value: &str, max_chars: usize) -> String {
    let mut line = String::with_capacity(value.len().min(max_chars * 4));
    let mut chars = 0;
    for c in value.chars() {
        if needs_escape(c) {
            for e in c.escape_debug() {
                line.push(e);
                chars += 1;
            }
        } else {
            line.push(c);
            chars += 1;
        }
        if chars > max_chars {
            break;
        }
    }
    if chars > max_chars {
        let cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
        return cut + "…";
    }
    line
}

/// True for a character that would break or forge a line.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_line_separators_are_escaped() {
        assert_eq!(
            one_line("High\nLatency\r\t\u{1b}[31m", 100),
            "High\\nLatency\\r\\t\\u{1b}[31m"
        );
        assert_eq!(one_line("a\u{2028}b\u{85}c", 100), "a\\u{2028}b\\u{85}c");
        assert_eq!(
            one_line("plain-name_1 'q' \"d\" ü", 100),
            "plain-name_1 'q' \"d\" ü"
        );
    }

    #[test]
    fn a_long_value_is_cut_to_the_bound_with_an_ellipsis() {
        let long = "x".repeat(1_000_000);
        let line = one_line(&long, 64);
        assert_eq!(line.chars().count(), 64);
        assert!(line.ends_with('…'));
        assert_eq!(one_line(&"y".repeat(64), 64), "y".repeat(64));
        let escapes = one_line(&"\n".repeat(100), 10);
        assert_eq!(escapes.chars().count(), 10);
        assert!(!escapes.contains('\n'));
    }

    #[test]
    fn it_is_idempotent() {
        for value in [
            "a\nb",
            "\\n",
            "x\u{2028}",
            &"z".repeat(300),
            &"\n".repeat(90),
        ] {
            let once = one_line(value, 64);
            assert_eq!(one_line(&once, 64), once, "{value:?}");
        }
    }
}
