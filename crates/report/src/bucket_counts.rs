//! [`BucketCounts`]: values counted in the buckets of a latency histogram, made into an
//! HdrHistogram only when read.

use hdrhistogram::Histogram;

use crate::stats::new_histogram;

/// Sub-buckets of a bucket, as a power of two: the smallest one above `2 × 10^3`, for the
/// three significant digits of [`new_histogram`].
const SUB_BUCKET_COUNT_MAGNITUDE: u32 = 11;
/// Half of them: every bucket but the first uses only its upper half.
const SUB_BUCKET_HALF_COUNT_MAGNITUDE: u32 = SUB_BUCKET_COUNT_MAGNITUDE - 1;
const SUB_BUCKET_MASK: u64 = (1 << SUB_BUCKET_COUNT_MAGNITUDE) - 1;

/// Values counted in the buckets of a [`new_histogram`] (three significant digits, lowest
/// value 1), laid out as HdrHistogram lays them out.
///
/// Counting a value is an index computation and an increment, where `Histogram::record`
/// also checks its bounds for resizing and tracks the minimum and maximum: this is cheaper
/// for a histogram recorded for every recipient. [`BucketCounts::add_to`] gives a histogram
/// the same counts as recording each value in it, hence the same percentiles and encoding.
/// Memory is bounded: at most one counter per bucket of the whole `u64` range (56,320).
#[derive(Debug, Clone, Default)]
pub(crate) struct BucketCounts {
    counts: Vec<u64>,
}

impl BucketCounts {
    /// Counts `value`.
    #[inline]
    pub(crate) fn record(&mut self, value: u64) {
        let index = index_of(value);
        if index >= self.counts.len() {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
    }

    /// Adds what `other` counted.
    pub(crate) fn merge(&mut self, other: &BucketCounts) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
    }

    /// Records the counts in `histogram` (made by [`new_histogram`]), bucket by bucket.
    pub(crate) fn add_to(&self, histogram: &mut Histogram<u64>) {
        for (index, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                let value = lowest_value_of(index);
                if histogram.record_n(value, count).is_err() {
                    histogram.saturating_record_n(value, count);
                }
            }
        }
    }

    /// The counts as a histogram.
    pub(crate) fn to_histogram(&self) -> Histogram<u64> {
        let mut histogram = new_histogram();
        self.add_to(&mut histogram);
        histogram
    }
}

/// The index of `value`'s bucket among the counts: HdrHistogram's `index_for` with a unit
/// magnitude of 0 (lowest value 1).
#[inline]
fn index_of(value: u64) -> usize {
    let bucket = 64 - SUB_BUCKET_COUNT_MAGNITUDE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = value >> bucket;
    // The first bucket spans sub-buckets 0.., the others only their upper half.
    (((u64::from(bucket) + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + sub_bucket
        - (1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE)) as usize
}

/// The lowest value counted at `index`.
fn lowest_value_of(index: usize) -> u64 {
    let index = index as u64;
    let half = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
    match (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE).checked_sub(1) {
        None | Some(0) => index,
        Some(bucket) => ((index & (half - 1)) + half) << bucket,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::summary::encode_histogram;

    fn both(values: &[u64]) -> (Histogram<u64>, Histogram<u64>) {
        let mut counts = BucketCounts::default();
        let mut direct = new_histogram();
        for &value in values {
            counts.record(value);
            direct.record(value).unwrap();
        }
        (counts.to_histogram(), direct)
    }

    #[test]
    fn bucket_edges_count_where_hdrhistogram_counts() {
        let mut values: Vec<u64> = (0..4_200).collect();
        for shift in 10..62 {
            let edge = 1u64 << shift;
            values.extend([edge - 1, edge, edge + 1, edge + edge / 3]);
        }
        values.push(u64::MAX >> 2);
        for &value in &values {
            let index = index_of(value);
            assert_eq!(index_of(lowest_value_of(index)), index, "{value}");
            assert!(lowest_value_of(index) <= value, "{value}");
        }
        let (counted, direct) = both(&values);
        assert_eq!(counted, direct);
        assert_eq!(
            encode_histogram(&counted).unwrap(),
            encode_histogram(&direct).unwrap()
        );
    }

    proptest! {
        /// Any values, counted in parts and merged or recorded one by one, give the same
        /// histogram and the same encoding.
        #[test]
        fn counted_values_make_the_recorded_histogram(
            values in prop::collection::vec(prop_oneof![0u64..5_000, 0u64..(1 << 40)], 0..300),
            split in any::<prop::sample::Index>(),
        ) {
            let at = split.index(values.len() + 1);
            let mut first = BucketCounts::default();
            let mut second = BucketCounts::default();
            values[..at].iter().for_each(|&v| first.record(v));
            values[at..].iter().for_each(|&v| second.record(v));
            first.merge(&second);
            let (_, direct) = both(&values);
            let merged = first.to_histogram();
            prop_assert_eq!(&merged, &direct);
            prop_assert_eq!(encode_histogram(&merged).unwrap(), encode_histogram(&direct).unwrap());
        }
    }
}
