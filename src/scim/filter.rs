//! SCIM filters (RFC 7644 §3.4.2.2), the part identity providers use:
//! `eq`, `ne`, `co`, `sw`, `ew`, `pr`, `and`, `or`, `not`, parentheses, and
//! value paths such as `emails[type eq "work"].value`. Attribute names and
//! string comparisons are case-insensitive, as userName matching must be.

use serde_json::Value as Json;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: String,
        op: CompareOp,
        value: Json,
    },
    Present {
        path: String,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"].value eq "x"`: the inner filter selects items of `attribute`.
    ValuePath {
        attribute: String,
        filter: Box<Filter>,
        sub: Option<Box<Filter>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    LBracket,
    RBracket,
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' | '\n' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '[' => {
                chars.next();
                out.push(Token::LBracket);
            }
            ']' => {
                chars.next();
                out.push(Token::RBracket);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => {
                            if let Some(e) = chars.next() {
                                text.push(e);
                            }
                        }
                        Some('"') => break,
                        Some(c) => text.push(c),
                        None => return Err("unterminated string".into()),
                    }
                }
                out.push(Token::Str(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                // `].value`: the sub-attribute after a value path
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.next();
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err("expected )".into());
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Filter, String> {
        let Some(Token::Word(path)) = self.next() else {
            return Err("expected an attribute".into());
        };
        if self.peek() == Some(&Token::LBracket) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::RBracket) {
                return Err("expected ]".into());
            }
            // An optional `.sub op value` after the bracket, e.g. `].value eq "x"`.
            let sub = match self.peek() {
                Some(Token::Word(w)) if w.starts_with('.') => {
                    let w = w.clone();
                    self.tokens[self.at] = Token::Word(w[1..].to_owned());
                    Some(Box::new(self.comparison()?))
                }
                _ => None,
            };
            return Ok(Filter::ValuePath {
                attribute: path,
                filter: Box::new(inner),
                sub,
            });
        }
        let Some(Token::Word(op)) = self.next() else {
            return Err(format!("expected an operator after {path}"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present { path }),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            other => return Err(format!("unknown operator {other:?}")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Json::String(s),
            Some(Token::Word(w)) if w == "true" => Json::Bool(true),
            Some(Token::Word(w)) if w == "false" => Json::Bool(false),
            Some(Token::Word(w)) if w == "null" => Json::Null,
            Some(Token::Word(w)) => w
                .parse::<i64>()
                .map(Json::from)
                .map_err(|_| format!("bad value {w:?}"))?,
            _ => return Err(format!("expected a value after {path}")),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

impl std::str::FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // `emails[type eq "work"].value`: split `].x` into `]` and `.x`.
        let mut parser = Parser {
            tokens: tokens(&s.replace("].", "] ."))?,
            at: 0,
        };
        let filter = parser.or()?;
        if parser.at != parser.tokens.len() {
            return Err("unexpected text after the filter".into());
        }
        Ok(filter)
    }
}

/// The values at a dotted path (`name.givenName`, `emails.value`), looking
/// through arrays; names compared case-insensitively.
fn values_at<'a>(resource: &'a Json, path: &str) -> Vec<&'a Json> {
    let path = path.rsplit(':').next().unwrap_or(path);
    let mut current = vec![resource];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            let items: Vec<&Json> = match v {
                Json::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Json::Object(map) = item
                    && let Some((_, found)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(part))
                {
                    next.push(found);
                }
            }
        }
        current = next;
    }
    current
        .into_iter()
        .flat_map(|v| match v {
            Json::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

fn compare(actual: &Json, op: CompareOp, expected: &Json) -> bool {
    match (actual, expected) {
        (Json::String(a), Json::String(e)) => {
            let (a, e) = (a.to_lowercase(), e.to_lowercase());
            match op {
                CompareOp::Eq => a == e,
                CompareOp::Ne => a != e,
                CompareOp::Co => a.contains(&e),
                CompareOp::Sw => a.starts_with(&e),
                CompareOp::Ew => a.ends_with(&e),
                CompareOp::Gt => a > e,
                CompareOp::Ge => a >= e,
                CompareOp::Lt => a < e,
                CompareOp::Le => a <= e,
            }
        }
        // Booleans sent as strings ("True") by some clients.
        (Json::Bool(a), Json::String(e)) => compare(
            &Json::Bool(*a),
            op,
            &Json::Bool(e.eq_ignore_ascii_case("true")),
        ),
        (a, e) => match op {
            CompareOp::Eq => a == e,
            CompareOp::Ne => a != e,
            _ => match (a.as_f64(), e.as_f64()) {
                (Some(a), Some(e)) => match op {
                    CompareOp::Gt => a > e,
                    CompareOp::Ge => a >= e,
                    CompareOp::Lt => a < e,
                    CompareOp::Le => a <= e,
                    _ => false,
                },
                _ => false,
            },
        },
    }
}

impl Filter {
    /// Whether a resource (SCIM JSON) matches.
    pub fn matches(&self, resource: &Json) -> bool {
        match self {
            Filter::Compare { path, op, value } => {
                let found = values_at(resource, path);
                if *op == CompareOp::Ne {
                    return found.iter().all(|v| compare(v, CompareOp::Ne, value));
                }
                found.iter().any(|v| compare(v, *op, value))
            }
            Filter::Present { path } => values_at(resource, path).iter().any(|v| {
                !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty())
            }),
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::ValuePath {
                attribute,
                filter,
                sub,
            } => values_at(resource, attribute)
                .into_iter()
                .filter(|item| filter.matches(item))
                .any(|item| sub.as_ref().is_none_or(|s| s.matches(item))),
        }
    }
}
