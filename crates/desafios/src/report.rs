//! What a check found: each requirement with what was sent, what was
//! expected and what came back, grouped by the write-up's rubric sections,
//! as lines for a person or as JSON for a grader.

use serde::Serialize;

/// One requirement of a write-up and how the stack met it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// What the write-up asks, in a few words.
    pub requirement: String,
    pub points: u32,
    pub passed: bool,
    /// The request made or the Docker object read.
    pub sent: String,
    pub expected: String,
    pub got: String,
}

/// A rubric section: the write-up's own (004 gives points) or one named
/// after the write-up's parts.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub outcomes: Vec<Outcome>,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            outcomes: Vec::new(),
        }
    }

    pub fn push(&mut self, outcome: Outcome) -> &mut Self {
        self.outcomes.push(outcome);
        self
    }

    pub fn points(&self) -> u32 {
        self.outcomes.iter().map(|o| o.points).sum()
    }

    pub fn score(&self) -> u32 {
        self.outcomes
            .iter()
            .filter(|o| o.passed)
            .map(|o| o.points)
            .sum()
    }
}

/// The whole check of one challenge.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub challenge: u8,
    /// Where the services were looked for, as `service=url`.
    pub targets: Vec<String>,
    /// The compose project the Docker checks read, if any.
    pub project: Option<String>,
    pub sections: Vec<Section>,
    /// What the write-up asks that no program can judge (a README's
    /// clarity), said so rather than scored.
    pub not_judged: Vec<String>,
    pub score: u32,
    pub max: u32,
}

impl Report {
    pub fn new(
        challenge: u8,
        targets: Vec<String>,
        project: Option<String>,
        sections: Vec<Section>,
        not_judged: Vec<String>,
    ) -> Self {
        let score = sections.iter().map(Section::score).sum();
        let max = sections.iter().map(Section::points).sum();
        Self {
            challenge,
            targets,
            project,
            sections,
            not_judged,
            score,
            max,
        }
    }

    pub fn full(&self) -> bool {
        self.score == self.max
    }

    /// One line per requirement under its section, then the score.
    pub fn text(&self) -> String {
        let mut out = format!(
            "desafios check {}: {}",
            self.challenge,
            self.targets.join(" ")
        );
        if let Some(project) = &self.project {
            out.push_str(&format!(", compose project {project}"));
        }
        out.push('\n');
        for section in &self.sections {
            out.push_str(&format!(
                "\n{} [{}/{} pts]\n",
                section.title,
                section.score(),
                section.points()
            ));
            for o in &section.outcomes {
                let (mark, earned) = if o.passed {
                    ("✓", o.points)
                } else {
                    ("✗", 0)
                };
                out.push_str(&format!(
                    "  {mark} {earned}/{} {}: {}; expected {}; got {}\n",
                    o.points,
                    o.requirement,
                    o.sent,
                    o.expected,
                    shorten(&o.got)
                ));
            }
        }
        for item in &self.not_judged {
            out.push_str(&format!("\nnot judged here (a teacher reads it): {item}\n"));
        }
        out.push_str(&format!("\nscore: {}/{}\n", self.score, self.max));
        out
    }
}

/// What came back, on one line and short enough to read.
fn shorten(got: &str) -> String {
    const MAX: usize = 160;
    let line = got.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(points: u32, passed: bool) -> Outcome {
        Outcome {
            requirement: "GET /health".into(),
            points,
            passed,
            sent: "GET http://x/health".into(),
            expected: "200".into(),
            got: "500 {\n \"error\": \"boom\" }".into(),
        }
    }

    #[test]
    fn the_score_counts_the_points_of_passed_requirements_only() {
        let mut a = Section::new("A");
        a.push(outcome(2, true)).push(outcome(3, false));
        let mut b = Section::new("B");
        b.push(outcome(1, true));
        let report = Report::new(1, vec!["server=http://x".into()], None, vec![a, b], vec![]);
        assert_eq!((report.score, report.max), (3, 6));
        assert!(!report.full());
        let text = report.text();
        assert!(text.contains("A [2/5 pts]"), "{text}");
        assert!(text.contains("  ✗ 0/3 GET /health: GET http://x/health; expected 200; got 500 { \"error\": \"boom\" }"), "{text}");
        assert!(text.ends_with("score: 3/6\n"), "{text}");
    }

    #[test]
    fn long_answers_are_cut_on_a_character_boundary() {
        let got = "é".repeat(500);
        let short = shorten(&got);
        assert_eq!(short.chars().count(), 163);
        assert!(short.ends_with("..."));
    }
}
