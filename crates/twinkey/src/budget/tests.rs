#![allow(clippy::unwrap_used)]

use super::*;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn granted(a: Admission) -> Charge {
    match a {
        Admission::Granted { charge, .. } => charge,
        other => panic!("not granted: {other:?}"),
    }
}

#[test]
fn waits_then_fails_past_max_wait() {
    let mut o = BudgetOptions::per_minute(100);
    o.policy = Policy::Wait {
        max_wait: Duration::from_secs(70),
    };
    let b = Budget::new(o).unwrap();
    let c = granted(b.admit(90, None, at(1_500), None).unwrap());
    assert_eq!(c.tokens(), 90);
    let w = b.admit(20, None, at(2_000), None).unwrap();
    assert_eq!(
        w,
        Admission::Wait {
            until: at((1 + KEEP_SECONDS) * 1000),
            scope: "key".into()
        }
    );
    // Asked first at 2 s, a wait to 63 s is within 70 s.
    granted(
        b.admit(20, None, at((1 + KEEP_SECONDS) * 1000), Some(at(2_000)))
            .unwrap(),
    );
}

#[test]
fn fail_fast_carries_retry_after() {
    let mut o = BudgetOptions::per_minute(100);
    o.policy = Policy::FailFast;
    let b = Budget::new(o).unwrap();
    granted(b.admit(100, None, at(0), None).unwrap());
    let e = b.admit(1, None, at(10_000), None).unwrap_err();
    assert_eq!(e.code(), "TPM_BUDGET_EXCEEDED");
    assert!(matches!(
        e,
        Error::TpmBudgetExceeded {
            retry_after_ms: 52_000,
            ..
        }
    ));
}

#[test]
fn settle_refunds_and_debits() {
    let b = Budget::new(BudgetOptions::per_minute(1000)).unwrap();
    let c = granted(b.admit(500, None, at(0), None).unwrap());
    let usage = Some(Usage::new(100, 50));
    let h = RateLimitHeaders::default();
    b.settle(c, Outcome::Answered { status: 200, usage }, &h, at(1_000));
    let snap = b.snapshot(at(1_000));
    assert_eq!(snap.windows[0].used, 150);
    assert_eq!(snap.refunded, 350);
}

#[test]
fn rate_limited_backs_off_and_resets() {
    let b = Budget::new(BudgetOptions::default()).unwrap();
    let h = RateLimitHeaders::default();
    let c = granted(b.admit(10, None, at(0), None).unwrap());
    let status = Outcome::Answered {
        status: 429,
        usage: None,
    };
    b.settle(c, status, &h, at(0));
    assert_eq!(b.snapshot(at(0)).blocked_until, Some(at(1_000)));
    let c = granted(b.admit(10, None, at(1_000), None).unwrap());
    b.settle(c, status, &h, at(1_000));
    assert_eq!(b.snapshot(at(1_000)).blocked_until, Some(at(3_000)));
    let c = granted(b.admit(10, None, at(3_000), None).unwrap());
    b.settle(
        c,
        Outcome::Answered {
            status: 200,
            usage: None,
        },
        &h,
        at(3_000),
    );
    let c = granted(b.admit(10, None, at(3_000), None).unwrap());
    b.settle(c, status, &h, at(3_000));
    assert_eq!(b.snapshot(at(3_000)).blocked_until, Some(at(4_000)));
}

#[test]
fn high_water_once_until_rearmed() {
    let b = Budget::new(BudgetOptions::per_minute(100)).unwrap();
    let Admission::Granted { high_water, .. } = b.admit(81, None, at(0), None).unwrap() else {
        panic!()
    };
    assert_eq!(high_water.unwrap().used, 81);
    let Admission::Granted { high_water, .. } = b.admit(5, None, at(0), None).unwrap() else {
        panic!()
    };
    assert_eq!(high_water, None);
}
