//! Step 7, `gaps`: events the recorder or the kernel lost, carried into the result with the time
//! range they cover, so the analyst knows where the tree and the files may be incomplete.

use crate::model::investigation::GapRecord;
use crate::pipeline::input::{Op, Rec};

/// The gap records of the log, in time order (the order of `recs`).
pub fn gaps(recs: &[Rec]) -> Vec<GapRecord> {
    recs.iter()
        .filter_map(|rec| match &rec.op {
            Op::Gap(g) => {
                // A recorded range with an impossible end is bounded by the gap event's time.
                let from = Some(g.from)
                    .filter(|t| t.is_plausible())
                    .unwrap_or(rec.time);
                let to = Some(g.to).filter(|t| t.is_plausible()).unwrap_or(rec.time);
                Some(GapRecord {
                    reason: g.reason,
                    lost: g.lost,
                    from: from.min(to),
                    to: to.max(from),
                    detail: g.detail.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::GapReason;
    use crate::pipeline::testkit::*;

    #[test]
    fn gaps_keep_their_reason_count_and_time_range() {
        let recs = recs_of(vec![
            fork(1, 1, 1, 5),
            gap(50, 10, 40, 7),
            gap(90, 60, 80, 1),
        ]);
        let gaps = gaps(&recs);
        assert_eq!(gaps.len(), 2);
        assert_eq!(gaps[0].reason, GapReason::BacklogFull);
        assert_eq!(gaps[0].lost, Some(7));
        assert_eq!((gaps[0].from, gaps[0].to), (t(10), t(40)));
        assert_eq!(gaps[1].from, t(60));
    }
}
