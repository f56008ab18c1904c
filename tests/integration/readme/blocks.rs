//! Reading the README: its marked examples, its other command lines, and matching output against them.

pub const README: &str = include_str!("../../../README.md");
const MARK: &str = "<!-- readme-test:";

/// A console block marked `<!-- readme-test: SCENARIO -->`.
pub struct Example {
    /// README line of the opening fence.
    pub line: usize,
    pub scenario: String,
    pub steps: Vec<Step>,
}

/// `$ command` and the lines printed after it.
pub struct Step {
    pub line: usize,
    pub command: String,
    pub expected: Vec<String>,
}

impl Step {
    pub fn fail(&self, why: &str) -> String {
        format!("README.md:{}: `{}`: {why}", self.line, self.command)
    }
}

pub fn examples() -> Vec<Example> {
    let mut examples = Vec::new();
    let mut pending: Option<String> = None;
    let mut current: Option<Example> = None;
    let mut in_block = false;
    for (i, line) in README.lines().enumerate() {
        let number = i + 1;
        if line.starts_with("```") {
            in_block = !in_block;
            if in_block {
                if let Some(scenario) = pending.take() {
                    current = Some(Example { line: number, scenario, steps: Vec::new() });
                }
            } else if let Some(example) = current.take() {
                examples.push(example);
            }
        } else if let Some(example) = current.as_mut() {
            if let Some(command) = line.strip_prefix("$ ") {
                let command = strip_comment(command).to_string();
                example.steps.push(Step { line: number, command, expected: Vec::new() });
            } else {
                let step = example.steps.last_mut();
                let step = step.unwrap_or_else(|| panic!("README.md:{number}: output before any `$ ` command"));
                step.expected.push(line.trim_end().to_string());
            }
        } else if let Some(rest) = line.trim().strip_prefix(MARK) {
            let scenario = rest.trim_end_matches("-->").trim();
            pending = Some(scenario.to_string());
        }
    }
    assert!(pending.is_none() && current.is_none(), "a <!-- readme-test --> mark without its block");
    examples
}

/// `kubectl vroute ...` lines in unmarked blocks (the quickstart): continuation lines joined, comments and
/// `&& ...` chains split off.
pub fn other_command_lines() -> Vec<(usize, String)> {
    let marked: Vec<usize> = examples().iter().flat_map(|e| e.steps.iter().map(|s| s.line)).collect();
    let mut found = Vec::new();
    let mut in_block = false;
    let mut joined: Option<(usize, String)> = None;
    for (i, line) in README.lines().enumerate() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if !in_block || marked.contains(&(i + 1)) {
            continue;
        }
        let text = strip_comment(line.trim_start_matches("$ "));
        let (start, text) = match joined.take() {
            Some((start, before)) => (start, format!("{before} {}", text.trim())),
            None => (i + 1, text.to_string()),
        };
        if let Some(open) = text.strip_suffix('\\') {
            joined = Some((start, open.trim_end().to_string()));
            continue;
        }
        for part in text.split("&&").map(str::trim) {
            if part.starts_with("kubectl vroute ") {
                found.push((start, part.to_string()));
            }
        }
    }
    found
}

/// The command without a trailing `# comment` (two spaces or more before the `#`).
fn strip_comment(command: &str) -> &str {
    match command.find("  #") {
        Some(at) => command[..at].trim_end(),
        None => command.trim_end(),
    }
}

/// Shell-like words: spaces separate, single and double quotes group.
pub fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// Whether `output` is what the README shows (`expected` lines, with `...` wildcards and times as `<time>`).
pub fn matches(expected: &[String], output: &str) -> bool {
    let expected: Vec<String> = expected.iter().map(|l| normalize(l)).collect();
    let actual: Vec<String> = output.lines().map(|l| normalize(l.trim_end())).collect();
    lines_match(&expected, &actual)
}

fn lines_match(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..])),
        Some((first, rest)) => {
            actual.split_first().is_some_and(|(line, more)| line_matches(first, line) && lines_match(rest, more))
        }
    }
}

/// One line, where `...` stands for any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("...").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || !actual[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// RFC 3339 UTC times (`2026-11-22T04:47:24Z`) become `<time>`, and a run of two or more spaces (a column gap)
/// becomes two: the README's `shop` stands for a longer test namespace, which widens the columns it appears in.
fn normalize(line: &str) -> String {
    let timed = times(line);
    let mut out = String::with_capacity(timed.len());
    let mut spaces = 0;
    for c in timed.chars() {
        if c == ' ' {
            spaces += 1;
            continue;
        }
        out.push_str(&" ".repeat(spaces.min(2)));
        spaces = 0;
        out.push(c);
    }
    out
}

fn times(line: &str) -> String {
    let bytes = line.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let is_time = bytes.len() - i >= shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b });
        if is_time {
            out.push_str("<time>");
            i += shape.len();
        } else {
            let c = line[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn wildcards_and_times() {
        assert!(matches(&lines("a\n...\nz"), "a\nb\nc\nz"));
        assert!(matches(&lines("a\n...\nz"), "a\nz"));
        assert!(!matches(&lines("a\n...\nz"), "a\nb"));
        assert!(matches(&lines("revision 1 (...), 2 (...)"), "revision 1 (x, y), 2 (z)"));
        assert!(!matches(&lines("revision 1 (...)"), "revision 2 (x)"));
        assert!(matches(&lines("A    B  C"), "A  B        C"), "column gaps of any width");
        assert!(!matches(&lines("A B"), "A  B"), "a single space is not a column gap");
        assert!(matches(&lines("at 2026-11-22T04:47:24Z"), "at 2027-01-01T00:00:00Z"));
        assert!(!matches(&lines("a"), "a\nb"), "extra output is a difference");
    }

    #[test]
    fn words_and_comments() {
        assert_eq!(words("set-weight a --route '#2' -n shop"), ["set-weight", "a", "--route", "#2", "-n", "shop"]);
        assert_eq!(strip_comment("pin b c -n shop        # after deploying"), "pin b c -n shop");
    }
}
