//! The status page of an engine (feature `metrics`): one self-contained HTML document (no
//! script, no external asset; it reloads itself) with, per secret, its state, health, expiry
//! on a timeline and the tokens per minute of the last hour as a chart; then the budget and
//! the usage table. Every text from outside (key and secret names, models) is escaped.

use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::engine::{Engine, EngineStatus, UsageReport};
use crate::time::Timestamp;

/// Seconds between reloads of the page.
pub const REFRESH_SECONDS: u32 = 5;

const DAY_MS: i64 = 86_400_000;
/// The expiry timeline spans at least this many days from now.
const TIMELINE_DAYS: i64 = 90;
const COLORS: [&str; 2] = ["#2f6fdf", "#e0832f"];

impl Engine {
    /// This engine's status page as HTML (see [`crate::status_page`]).
    pub fn status_page(&self, title: &str) -> String {
        render(title, &self.status(), &self.usage())
    }
}

/// Renders the page from a status and a usage report taken at the same time.
pub fn render(title: &str, status: &EngineStatus, usage: &UsageReport) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>twinkey · {t}</title><style>{STYLE}</style></head><body>\
         <h1>twinkey · {t}</h1><p class=\"at\">as of <time>{at}</time>, reloads every {REFRESH_SECONDS} s</p>",
        t = text(title),
        at = status.at,
    );
    secrets_table(&mut h, status);
    timeline(&mut h, status);
    tokens_chart(&mut h, usage);
    budget(&mut h, usage);
    usage_table(&mut h, usage);
    h.push_str("</body></html>\n");
    h
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fbfbfd}\
h1{font-size:20px;margin:0}h2{font-size:16px;margin:24px 0 8px}.at{color:#667}\
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #dde;text-align:left}\
th{background:#eef}.ok{color:#17803d}.bad{color:#b3261e}.warn{color:#a15c00}\
svg{background:#fff;border:1px solid #dde}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}";

fn secrets_table(h: &mut String, status: &EngineStatus) {
    h.push_str(
        "<h2>Secrets</h2><table id=\"secrets\"><tr><th>secret</th><th>fingerprint</th>\
         <th>state</th><th>health</th><th>usable</th><th>traffic</th><th>expires</th>\
         <th>attempts</th><th>accepted</th><th>rejected</th></tr>",
    );
    for (i, s) in status.secrets.iter().enumerate() {
        let health_class = match s.health.as_str() {
            "healthy" => "ok",
            "probe_due" => "warn",
            _ => "bad",
        };
        let usable = match (&s.reason, s.usable) {
            (_, true) => "<span class=\"ok\">yes</span>".to_string(),
            (Some(r), false) => format!("<span class=\"bad\">no: {}</span>", text(r.code())),
            (None, false) => "<span class=\"bad\">no</span>".to_string(),
        };
        let _ = write!(
            h,
            "<tr data-secret=\"{name_attr}\"><td><span class=\"sw\" style=\"background:{color}\"></span>{name}</td>\
             <td><code>{fp}</code></td><td>{state}</td><td class=\"{health_class}\">{health}</td>\
             <td>{usable}</td><td>{current}</td><td>{expires}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.counters.attempts,
            s.counters.accepted,
            s.counters.rejected,
            name_attr = attr(&s.name),
            color = COLORS[i % 2],
            name = text(&s.name),
            fp = text(&s.fingerprint),
            state = text(s.state.as_str()),
            health = s.health.as_str(),
            current = if s.current { "in use" } else { "standby" },
            expires = s
                .time_expiry
                .map_or_else(|| "never".to_string(), |t| t.to_string()),
        );
    }
    h.push_str("</table>");
}

/// Both secrets' remaining validity as bars from now.
fn timeline(h: &mut String, status: &EngineStatus) {
    let now = status.at.as_millis();
    let last = status
        .secrets
        .iter()
        .filter_map(|s| s.time_expiry.map(Timestamp::as_millis))
        .max()
        .unwrap_or(now);
    let span = (last - now).max(TIMELINE_DAYS * DAY_MS);
    let (w, left, bar) = (640.0, 90.0, 22.0);
    let scale = |ms: i64| {
        #[allow(clippy::cast_precision_loss)]
        let f = (ms.clamp(now, now + span) - now) as f64 / span as f64;
        left + f * (w - left - 10.0)
    };
    let _ = write!(
        h,
        "<h2>Expiry</h2><svg id=\"timeline\" width=\"{w}\" height=\"90\" role=\"img\" \
         aria-label=\"expiry timeline\"><line x1=\"{left}\" y1=\"10\" x2=\"{left}\" y2=\"70\" stroke=\"#888\"/>\
         <text x=\"{left}\" y=\"84\" font-size=\"11\">now</text>"
    );
    for (i, s) in status.secrets.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let y = 12.0 + i as f64 * (bar + 8.0);
        let end = s.time_expiry.map_or(now + span, Timestamp::as_millis);
        let x2 = scale(end);
        let days = (end - now) / DAY_MS;
        let label = if s.time_expiry.is_none() {
            "no expiry".to_string()
        } else if end <= now {
            "expired".to_string()
        } else {
            format!("{days} d")
        };
        let _ = write!(
            h,
            "<text x=\"4\" y=\"{ty}\" font-size=\"12\">{name}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{bw:.1}\" height=\"{bar}\" fill=\"{color}\" opacity=\"{op}\"/>\
             <text x=\"{lx:.1}\" y=\"{ty}\" font-size=\"11\">{label}</text>",
            ty = y + 15.0,
            name = text(&s.name),
            bw = (x2 - left).max(1.0),
            color = COLORS[i % 2],
            op = if s.usable { "0.9" } else { "0.35" },
            lx = (x2 + 4.0).min(w - 40.0),
        );
    }
    h.push_str("</svg>");
}

/// Tokens per minute over the last hour, stacked per secret, with the budget's limit.
fn tokens_chart(h: &mut String, usage: &UsageReport) {
    let limit = usage
        .budget
        .as_ref()
        .and_then(|b| b.windows.iter().find(|w| w.scope == "key"))
        .map(|w| w.limit);
    let busiest = usage
        .minutes
        .iter()
        .map(|m| m.tokens[0] + m.tokens[1])
        .max()
        .unwrap_or(0);
    // The limit sets the scale when traffic comes near it; otherwise the traffic does, so
    // that small figures stay visible, and the limit is named above the chart.
    let limit_on_scale = limit.filter(|&l| l <= busiest.saturating_mul(2).max(1));
    let top = busiest.max(limit_on_scale.unwrap_or(0)).max(1);
    let (w, hgt, left, bottom) = (640.0, 180.0, 50.0, 20.0);
    let plot = hgt - bottom - 10.0;
    #[allow(clippy::cast_precision_loss)]
    let y_of = |v: u64| 10.0 + plot - v as f64 / top as f64 * plot;
    let slot = (w - left - 10.0) / crate::usage::HISTORY_MINUTES as f64;
    let total: u64 = usage
        .minutes
        .iter()
        .map(|m| m.tokens[0] + m.tokens[1])
        .sum();
    let _ = write!(
        h,
        "<h2>Tokens per minute, last hour</h2><svg id=\"tpm\" width=\"{w}\" height=\"{hgt}\" role=\"img\" \
         aria-label=\"tokens per minute\" data-total=\"{total}\">\
         <text x=\"4\" y=\"16\" font-size=\"11\">{top}</text><text x=\"4\" y=\"{zy}\" font-size=\"11\">0</text>\
         <line x1=\"{left}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#888\"/>",
        zy = hgt - bottom,
        base = 10.0 + plot,
        right = w - 10.0,
    );
    let first = usage.at.as_millis() / 60_000 - (crate::usage::HISTORY_MINUTES as i64 - 1);
    for m in &usage.minutes {
        let idx = m.minute.as_millis() / 60_000 - first;
        if !(0..crate::usage::HISTORY_MINUTES as i64).contains(&idx) {
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let x = left + idx as f64 * slot;
        let mut below = 0;
        for (i, t) in m.tokens.iter().enumerate() {
            if *t == 0 {
                continue;
            }
            let (y0, y1) = (y_of(below), y_of(below + t));
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"{c}\">\
                 <title>{name}: {t} tokens at {at}</title></rect>",
                bw = (slot - 1.0).max(1.0),
                bh = (y0 - y1).max(0.5),
                c = COLORS[i],
                name = text(&usage.secrets[i]),
                at = m.minute,
            );
            below += t;
        }
    }
    if let (Some(l), None) = (limit, limit_on_scale) {
        let _ = write!(
            h,
            "<text x=\"{tx}\" y=\"16\" font-size=\"11\" fill=\"#b3261e\">limit {l} (above the chart)</text>",
            tx = w - 180.0,
        );
    }
    if let Some(l) = limit_on_scale {
        let y = y_of(l);
        let _ = write!(
            h,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{r}\" y2=\"{y:.1}\" stroke=\"#b3261e\" stroke-dasharray=\"4 3\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" font-size=\"11\" fill=\"#b3261e\">limit {l}</text>",
            r = w - 10.0,
            tx = w - 90.0,
            ty = y - 3.0,
        );
    }
    let _ = write!(
        h,
        "<text x=\"{left}\" y=\"{by}\" font-size=\"11\">−60 min</text><text x=\"{nx}\" y=\"{by}\" font-size=\"11\">now</text></svg>",
        by = hgt - 4.0,
        nx = w - 34.0,
    );
}

fn budget(h: &mut String, usage: &UsageReport) {
    let Some(b) = &usage.budget else {
        h.push_str("<h2>Budget</h2><p id=\"budget\">no tokens-per-minute budget configured</p>");
        return;
    };
    h.push_str(
        "<h2>Budget</h2><table id=\"budget\"><tr><th>scope</th><th>used</th><th>limit</th></tr>",
    );
    for w in &b.windows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&w.scope),
            w.used,
            w.limit
        );
    }
    let _ = write!(
        h,
        "</table><p>refunded {} · debited {}{}</p>",
        b.refunded,
        b.debited,
        b.blocked_until
            .map(|t| format!(" · <span class=\"bad\">blocked by the service until {t}</span>"))
            .unwrap_or_default()
    );
}

fn usage_table(h: &mut String, usage: &UsageReport) {
    h.push_str(
        "<h2>Usage</h2><table id=\"usage\"><tr><th>secret</th><th>model</th><th>endpoint</th>\
         <th>status</th><th>requests</th><th>without usage</th><th>input</th><th>output</th></tr>",
    );
    for r in &usage.rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&r.secret),
            text(&r.row.model),
            r.row.endpoint.as_str(),
            r.row.status,
            r.row.requests,
            r.row.without_usage,
            r.row.input_tokens,
            r.row.output_tokens
        );
    }
    h.push_str("</table>");
}
