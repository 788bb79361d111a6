//! SCIM filters (RFC 7644 §3.4.2.2), the part identity providers use:
//! `eq`, `ne`, `co`, `sw`, `ew`, `pr`, `and`, `or`, `not`, parentheses, and
//! value paths such as `emails[type eq "work"].value`. Attribute names and
//! string comparisons are case-insensitive, as userName matching must be.
//!
//! Filters come from anyone who can reach the server, so the parser bounds
//! what it accepts ([`MAX_LEN`], [`MAX_DEPTH`], [`MAX_TERMS`]): no filter can
//! build a tree deep enough for the recursive parser, matcher or drop to
//! exhaust a thread's stack.

use serde_json::Value as Json;

use super::error::ScimType;

/// The longest filter accepted, in bytes. Identity providers send filters of
/// a few dozen bytes; nesting is bounded on its own, well below this.
pub const MAX_LEN: usize = 16 * 1024;
/// The deepest nesting accepted: parentheses, `not`, and `[` of value paths
/// together.
pub const MAX_DEPTH: usize = 32;
/// The most attribute expressions (`userName eq "x"`, `emails[…]`) in one filter.
pub const MAX_TERMS: usize = 200;

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// Not a filter: `invalidFilter`.
    #[error("{0}")]
    Syntax(String),
    /// Longer than [`MAX_LEN`] bytes: `invalidFilter`.
    #[error("the filter is {0} bytes long; at most {MAX_LEN} are accepted")]
    TooLong(usize),
    /// Nested deeper than [`MAX_DEPTH`]: `invalidFilter`.
    #[error("the filter nests deeper than {MAX_DEPTH} levels (parentheses, not, [ ])")]
    TooDeep,
    /// More than [`MAX_TERMS`] attribute expressions: `tooMany`.
    #[error("the filter has more than {MAX_TERMS} attribute expressions")]
    TooManyTerms,
}

impl FilterError {
    /// The SCIM error type of the 400 answer (RFC 7644 §3.12).
    pub fn scim_type(&self) -> ScimType {
        match self {
            FilterError::TooManyTerms => ScimType::TooMany,
            _ => ScimType::InvalidFilter,
        }
    }
}

impl From<String> for FilterError {
    fn from(detail: String) -> Self {
        FilterError::Syntax(detail)
    }
}

impl From<&str> for FilterError {
    fn from(detail: &str) -> Self {
        FilterError::Syntax(detail.to_owned())
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "jdoe"`.
    Compare {
        /// The attribute path, e.g. `name.familyName` or a URN-qualified one.
        path: String,
        /// The operator.
        op: CompareOp,
        /// The value compared with (string, number, boolean or null).
        value: Json,
    },
    /// `path pr`: the attribute has a value.
    Present {
        /// The attribute path.
        path: String,
    },
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `emails[type eq "work"].value eq "x"`: the inner filter selects items of `attribute`.
    ValuePath {
        /// The multi-valued attribute, e.g. `emails`.
        attribute: String,
        /// Selects the attribute's items.
        filter: Box<Filter>,
        /// A comparison on a sub-attribute of the selected items (`.value eq "x"`), if any.
        sub: Option<Box<Filter>>,
    },
}

/// A comparison operator of RFC 7644 §3.4.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
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

fn tokens(s: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            // Every kind the word branch stops at: it must consume something.
            c if c.is_whitespace() => {
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
    /// How deep the parse is nested now.
    depth: usize,
    /// Attribute expressions parsed so far.
    terms: usize,
}

type Parsed = Result<Filter, FilterError>;

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

    /// `parse` one level deeper, refused beyond [`MAX_DEPTH`].
    fn nested(&mut self, parse: fn(&mut Self) -> Parsed) -> Parsed {
        if self.depth == MAX_DEPTH {
            return Err(FilterError::TooDeep);
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn or(&mut self) -> Parsed {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Parsed {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Parsed {
        if self.keyword("not") {
            self.next();
            return Ok(Filter::Not(Box::new(self.nested(Self::unary)?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.nested(Self::or)?;
            if self.next() != Some(Token::Close) {
                return Err("expected )".into());
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Parsed {
        let Some(Token::Word(path)) = self.next() else {
            return Err("expected an attribute".into());
        };
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(FilterError::TooManyTerms);
        }
        if self.peek() == Some(&Token::LBracket) {
            self.next();
            let inner = self.nested(Self::or)?;
            if self.next() != Some(Token::RBracket) {
                return Err("expected ]".into());
            }
            // An optional `.sub op value` after the bracket, e.g. `].value eq "x"`.
            let sub = match self.peek() {
                Some(Token::Word(w)) if w.starts_with('.') => {
                    let w = w.clone();
                    self.tokens[self.at] = Token::Word(w[1..].to_owned());
                    Some(Box::new(self.nested(Self::comparison)?))
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
            return Err(format!("expected an operator after {path}").into());
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
            other => return Err(format!("unknown operator {other:?}").into()),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Json::String(s),
            Some(Token::Word(w)) if w == "true" => Json::Bool(true),
            Some(Token::Word(w)) if w == "false" => Json::Bool(false),
            Some(Token::Word(w)) if w == "null" => Json::Null,
            // A bare word is a string: Entra's documentation shows
            // `externalId eq jyoung` (RFC 7644 §3.4.2.2 wants quotes).
            Some(Token::Word(w)) => w.parse::<i64>().map_or(Json::String(w), Json::from),
            _ => return Err(format!("expected a value after {path}").into()),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, FilterError> {
        if s.len() > MAX_LEN {
            return Err(FilterError::TooLong(s.len()));
        }
        // `emails[type eq "work"].value`: split `].x` into `]` and `.x`.
        let mut parser = Parser {
            tokens: tokens(&s.replace("].", "] ."))?,
            at: 0,
            depth: 0,
            terms: 0,
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
        // A complex value without a sub-attribute compares by its `value`
        // (`members eq "id"`, `emails co "example.com"`: RFC 7644 §3.4.2.2).
        (Json::Object(item), e) if !e.is_object() => item
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("value"))
            .is_some_and(|(_, v)| !v.is_object() && compare(v, op, e)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Result<Filter, FilterError> {
        s.parse()
    }

    /// `depth` levels of `open … close` around a term.
    fn nest(open: &str, close: &str, depth: usize) -> String {
        format!("{}userName pr{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn nesting_is_bounded_whatever_its_shape() {
        let user = json!({"userName": "ann", "emails": [{"type": "work"}]});
        // (opening, closing, how many fit): `not (` is two levels.
        for (open, close, most) in [
            ("(", ")", MAX_DEPTH),
            ("not (", ")", MAX_DEPTH / 2),
            ("not ", "", MAX_DEPTH),
        ] {
            let deepest = parse(&nest(open, close, most)).unwrap();
            assert!(deepest.matches(&user), "{open}: an even number of nots");
            assert_eq!(
                parse(&nest(open, close, most + 1)),
                Err(FilterError::TooDeep),
                "{open}"
            );
        }
        let brackets = |n: usize| format!("{}type pr{}", "emails[".repeat(n), "]".repeat(n));
        assert!(parse(&brackets(MAX_DEPTH)).is_ok());
        assert_eq!(parse(&brackets(MAX_DEPTH + 1)), Err(FilterError::TooDeep));
        // Sub-attributes of value paths nest too.
        let subs = format!("emails[type pr]{}", ".x[type pr]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&subs), Err(FilterError::TooDeep));
    }

    /// A `\r` (or any whitespace but space, tab and newline) once made the
    /// tokenizer push empty words forever, until memory ran out.
    #[test]
    fn every_whitespace_separates() {
        let user = json!({"userName": "ann"});
        for space in ['\r', '\u{b}', '\u{c}', '\u{a0}', '\u{2003}', '\u{3000}'] {
            let filter = parse(&format!("{space}userName{space}eq{space}\"ann\"{space}"));
            assert!(filter.unwrap().matches(&user), "{space:?}");
        }
    }

    /// Entra's documentation filters with a bare value: `externalId eq jyoung`.
    #[test]
    fn unquoted_values_are_strings() {
        let user = json!({"externalId": "jyoung", "userName": "jyoung@example.com"});
        assert!(parse("externalId eq jyoung").unwrap().matches(&user));
        assert!(
            parse("userName eq jyoung@example.com")
                .unwrap()
                .matches(&user)
        );
        assert!(!parse("externalId eq jyoung2").unwrap().matches(&user));
        assert_eq!(
            parse("count eq 3").unwrap(),
            Filter::Compare {
                path: "count".into(),
                op: CompareOp::Eq,
                value: json!(3)
            }
        );
    }

    #[test]
    fn a_complex_value_compares_by_its_value() {
        let group = json!({"members": [{"value": "id-1", "display": "ann"}]});
        assert!(parse("members eq \"id-1\"").unwrap().matches(&group));
        assert!(parse("members[value eq \"id-1\"]").unwrap().matches(&group));
        assert!(!parse("members eq \"ann\"").unwrap().matches(&group));
    }

    #[test]
    fn terms_and_length_are_bounded() {
        let terms = |n: usize| vec!["userName eq \"x\""; n].join(" or ");
        let most = parse(&terms(MAX_TERMS)).unwrap();
        assert!(most.matches(&json!({"userName": "X"})));
        let refused = parse(&terms(MAX_TERMS + 1)).unwrap_err();
        assert_eq!(refused, FilterError::TooManyTerms);
        assert_eq!(refused.scim_type(), ScimType::TooMany);
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_LEN));
        let refused = parse(&long).unwrap_err();
        assert!(matches!(refused, FilterError::TooLong(n) if n == long.len()));
        assert_eq!(refused.scim_type(), ScimType::InvalidFilter);
        assert_eq!(
            parse("userName zz 1").unwrap_err().scim_type(),
            ScimType::InvalidFilter
        );
    }
}
