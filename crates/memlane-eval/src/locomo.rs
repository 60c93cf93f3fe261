//! LoCoMo conversation files: their dialog turns and scored questions.
//!
//! A file is one JSON object with `session_N` (a list of turns `{speaker, dia_id, text, [blip_caption]}`),
//! `session_N_date_time` (e.g. `"1:56 pm on 8 May, 2023"`) and `qa` (a list of `{question, evidence, category}`).
//! Only the turns and the questions are read: the summaries, observations and event lists in the same files were
//! written with knowledge of the answers and are never loaded.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use memlane::Timestamp;
use serde_json::{Map, Value};

/// One dialog turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Its id in the conversation, e.g. `D3:7` (for scoring only, never for ranking).
    pub dia_id: String,
    /// The session it belongs to (the `N` of `session_N`).
    pub session: u32,
    /// Its position in the session, from 0.
    pub index: usize,
    /// Who speaks.
    pub speaker: String,
    /// What is said.
    pub text: String,
    /// The caption of an image shared with the turn.
    pub caption: Option<String>,
    /// The session's date as written in the file.
    pub date_text: Option<String>,
    /// The session's date, when it parses.
    pub date: Option<Timestamp>,
}

impl Turn {
    /// The memory content of the protocol: `"<speaker>: <text>"`, plus `" [image: <caption>]"`.
    pub fn content(&self) -> String {
        match &self.caption {
            Some(c) => format!("{}: {} [image: {c}]", self.speaker, self.text),
            None => format!("{}: {}", self.speaker, self.text),
        }
    }
}

/// One scored question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The question.
    pub text: String,
    /// LoCoMo's category: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop (5, adversarial, is skipped).
    pub category: u8,
    /// The `dia_id`s of its evidence turns, split and deduplicated.
    pub evidence: Vec<String>,
}

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Its name: the file's stem (e.g. `conv-26`).
    pub name: String,
    /// Every dialog turn, by session then position.
    pub turns: Vec<Turn>,
    /// The scored questions.
    pub questions: Vec<Question>,
    /// Questions left out: category 5, or without evidence.
    pub skipped: usize,
}

/// The human name of a category.
pub fn category_name(c: u8) -> &'static str {
    match c {
        1 => "multi-hop",
        2 => "temporal",
        3 => "open-domain",
        4 => "single-hop",
        5 => "adversarial",
        _ => "other",
    }
}

/// Every `*.json` file in `dir`, by name.
pub fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// Reads one conversation file.
pub fn load(path: &Path) -> Result<Conversation, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "conversation".into());
    parse(&name, &v).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses a conversation object. Some releases nest the sessions under `conversation`; both forms are read.
pub fn parse(name: &str, v: &Value) -> Result<Conversation, String> {
    let top = v.as_object().ok_or("not a JSON object")?;
    let sessions = top
        .get("conversation")
        .and_then(Value::as_object)
        .unwrap_or(top);
    let turns = turns(sessions)?;
    let (questions, skipped) = questions(top.get("qa"))?;
    Ok(Conversation {
        name: name.to_owned(),
        turns,
        questions,
        skipped,
    })
}

fn turns(obj: &Map<String, Value>) -> Result<Vec<Turn>, String> {
    let mut sessions: Vec<(u32, &Vec<Value>)> = obj
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("session_")?.parse::<u32>().ok()?;
            Some((n, v.as_array()?))
        })
        .collect();
    sessions.sort_by_key(|(n, _)| *n);
    let mut out = Vec::new();
    for (n, list) in sessions {
        let date_text = obj
            .get(&format!("session_{n}_date_time"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let date = date_text.as_deref().and_then(parse_date);
        for (index, t) in list.iter().enumerate() {
            let field = |f: &str| t.get(f).and_then(Value::as_str).map(str::to_owned);
            let (Some(dia_id), Some(speaker), Some(text)) =
                (field("dia_id"), field("speaker"), field("text"))
            else {
                return Err(format!(
                    "session_{n}[{index}] lacks dia_id, speaker or text"
                ));
            };
            out.push(Turn {
                dia_id,
                session: n,
                index,
                speaker,
                text,
                caption: field("blip_caption").filter(|c| !c.trim().is_empty()),
                date_text: date_text.clone(),
                date,
            });
        }
    }
    Ok(out)
}

fn questions(qa: Option<&Value>) -> Result<(Vec<Question>, usize), String> {
    let Some(list) = qa else {
        return Ok((Vec::new(), 0));
    };
    let list = list.as_array().ok_or("qa is not a list")?;
    let (mut out, mut skipped) = (Vec::new(), 0);
    for q in list {
        let category = q.get("category").and_then(Value::as_u64).unwrap_or(0);
        let text = q.get("question").and_then(Value::as_str).unwrap_or("");
        let evidence = evidence(q.get("evidence"));
        if category == 5 || evidence.is_empty() || text.trim().is_empty() {
            skipped += 1;
            continue;
        }
        out.push(Question {
            text: text.to_owned(),
            category: u8::try_from(category).unwrap_or(0),
            evidence,
        });
    }
    Ok((out, skipped))
}

/// Evidence ids: entries like `"D8:6; D9:17"` are split; duplicates are dropped; ids are kept as written (an id
/// naming no turn still counts in the denominator of recall, as the protocol says).
fn evidence(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in v.and_then(Value::as_array).into_iter().flatten() {
        for id in e.as_str().unwrap_or("").split(';') {
            let id = id.trim();
            if !id.is_empty() && !out.iter().any(|x| x == id) {
                out.push(id.to_owned());
            }
        }
    }
    out
}

/// `"1:56 pm on 8 May, 2023"` as a timestamp (UTC).
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let s = s.trim().replace(" am ", " AM ").replace(" pm ", " PM ");
    NaiveDateTime::parse_from_str(&s, "%I:%M %p on %d %B, %Y")
        .ok()
        .map(|d| Timestamp::from_millis(d.and_utc().timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_turns_questions_and_dates() {
        let v = json!({
            "speaker_a": "A", "speaker_b": "B",
            "session_2_date_time": "1:14 pm on 25 May, 2023",
            "session_2": [{"speaker": "B", "dia_id": "D2:1", "text": "later"}],
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "A", "dia_id": "D1:1", "text": "hi", "blip_caption": "a dog"},
                {"speaker": "B", "dia_id": "D1:2", "text": "hello"}
            ],
            "session_1_summary": "never loaded",
            "qa": [
                {"question": "q1", "evidence": ["D1:1; D2:1", "D1:1"], "category": 1},
                {"question": "q2", "evidence": [], "category": 2},
                {"question": "q3", "evidence": ["D1:2"], "category": 5}
            ]
        });
        let c = parse("c", &v).expect("parses");
        let ids: Vec<_> = c.turns.iter().map(|t| t.dia_id.as_str()).collect();
        assert_eq!(ids, ["D1:1", "D1:2", "D2:1"]);
        assert_eq!(c.turns[0].content(), "A: hi [image: a dog]");
        assert_eq!(c.turns[1].content(), "B: hello");
        assert_eq!(c.questions.len(), 1);
        assert_eq!(c.questions[0].evidence, ["D1:1", "D2:1"]);
        assert_eq!(c.skipped, 2);
        let d = c.turns[0].date.expect("date");
        assert_eq!(d.as_millis(), 1_683_554_160_000);
        assert!(c.turns[2].date > c.turns[0].date);
    }
}
