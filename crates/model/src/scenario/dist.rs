//! Random quantities in a scenario: a plain value is a constant; a table names a distribution.
//!
//! ```toml
//! latency = "40ms"                                        # constant
//! latency = { dist = "exponential", mean = "40ms" }
//! latency = { dist = "uniform", min = "10ms", max = "90ms" }
//! latency = { dist = "normal", mean = "40ms", sd = "10ms" }        # negative draws become 0
//! latency = { dist = "lognormal", mean = "40ms", sd = "30ms" }     # mean and sd of the values
//! latency = { dist = "pareto", scale = "10ms", shape = 1.5 }      # scale is the minimum
//! ```
//! Values carry the unit of the field (durations, sizes or counts).

use std::fmt;
use std::marker::PhantomData;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};
use serde::Deserialize;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, Visitor};

use super::units::{Bytes, Duration};

/// A quantity a distribution can produce, with its base unit as `f64`.
pub trait Quantity: Copy {
    /// The value in base units (microseconds, bytes, items).
    fn to_base(self) -> f64;
    /// The value from a whole number of base units.
    fn from_units(units: u64) -> Self;
    /// The value from base units, rounded to a whole number of them (0 for negative numbers
    /// and NaN).
    fn from_base(base: f64) -> Self {
        Self::from_units(round_non_negative(base))
    }
}

impl Quantity for Duration {
    fn to_base(self) -> f64 {
        self.micros() as f64
    }
    fn from_units(units: u64) -> Self {
        Duration::from_micros(units)
    }
}

impl Quantity for Bytes {
    fn to_base(self) -> f64 {
        self.0 as f64
    }
    fn from_units(units: u64) -> Self {
        Bytes(units)
    }
}

/// A whole number of items (recipients per message, for example).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number, 0 or more")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v)
                    .map(Count)
                    .map_err(|_| E::custom(format!("a count cannot be negative, not {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
                Err(E::custom(format!("a count is a whole number, not {v}")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl Quantity for Count {
    fn to_base(self) -> f64 {
        self.0 as f64
    }
    fn from_units(units: u64) -> Self {
        Count(units)
    }
}

fn round_non_negative(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= u64::MAX as f64 {
        u64::MAX
    } else {
        smtpsim_des::round_to_u64(x)
    }
}

/// A distribution of `Q`, ready to draw from.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist<Q> {
    shape: Shape,
    mean: f64,
    unit: PhantomData<Q>,
}

#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// The value, and the value rounded to whole base units (rounded once, here, rather
    /// than at every draw).
    Constant(f64, u64),
    Uniform {
        min: f64,
        max: f64,
    },
    Exponential(Exp<f64>),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    /// The distribution and its scale.
    Pareto(Pareto<f64>, f64),
}

impl<Q: Quantity> Dist<Q> {
    /// Always `value`.
    pub fn constant(value: Q) -> Dist<Q> {
        Self::from_shape(constant(value.to_base()), value.to_base())
    }

    /// Exponential with the given mean.
    pub fn exponential(mean: Q) -> Result<Dist<Q>, String> {
        let mean = mean.to_base();
        if !(mean > 0.0 && mean.is_finite()) {
            return Err("an exponential distribution needs a mean above 0".to_string());
        }
        Ok(Self::from_shape(
            Shape::Exponential(Exp::new(1.0 / mean).map_err(|e| e.to_string())?),
            mean,
        ))
    }

    fn from_shape(shape: Shape, mean: f64) -> Dist<Q> {
        Dist {
            shape,
            mean,
            unit: PhantomData,
        }
    }

    /// Draws one value.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Q {
        match self.shape {
            Shape::Constant(_, units) => Q::from_units(units),
            _ => Q::from_base(self.sample_base(rng)),
        }
    }

    fn sample_base<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.shape {
            Shape::Constant(v, _) => *v,
            Shape::Uniform { min, max } => uniform(*min, *max, rng),
            Shape::Exponential(d) => d.sample(rng),
            Shape::Normal(d) => normal(d, rng),
            Shape::LogNormal(d) => d.sample(rng),
            Shape::Pareto(d, _) => d.sample(rng),
        }
    }

    /// Draws `n` values, one after the other, and hands each to `each`: the same values as
    /// `n` calls of [`Dist::sample`], with the shape matched once rather than per draw (the
    /// server's latency is drawn for every round trip of every attempt).
    pub fn sample_each<R: Rng + ?Sized>(&self, n: u32, rng: &mut R, mut each: impl FnMut(Q)) {
        match &self.shape {
            Shape::Constant(_, units) => (0..n).for_each(|_| each(Q::from_units(*units))),
            Shape::Uniform { min, max } => repeat(n, rng, &mut each, |r| uniform(*min, *max, r)),
            Shape::Exponential(d) => repeat(n, rng, &mut each, |r| d.sample(r)),
            Shape::Normal(d) => repeat(n, rng, &mut each, |r| normal(d, r)),
            Shape::LogNormal(d) => repeat(n, rng, &mut each, |r| d.sample(r)),
            Shape::Pareto(d, _) => repeat(n, rng, &mut each, |r| d.sample(r)),
        }
    }

    /// The mean of the distribution in base units (infinite for a Pareto with shape ≤ 1;
    /// for a normal, the mean before negative draws are raised to 0).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The largest value the parameters name, in base units: the constant, the uniform's
    /// maximum, the Pareto's scale (its smallest value), or the mean of the others. Draws
    /// of an unbounded distribution can exceed it.
    pub fn nominal_max(&self) -> f64 {
        match &self.shape {
            Shape::Constant(v, _) => *v,
            Shape::Uniform { max, .. } => *max,
            Shape::Pareto(_, scale) => *scale,
            Shape::Exponential(_) | Shape::Normal(_) | Shape::LogNormal(_) => self.mean,
        }
    }

    /// Whether every draw is the same value.
    pub fn is_constant(&self) -> bool {
        matches!(self.shape, Shape::Constant(..))
    }
}

/// A constant's shape.
fn constant(value: f64) -> Shape {
    Shape::Constant(value, round_non_negative(value))
}

/// A uniform draw between `min` and `max`.
#[inline(always)]
fn uniform<R: Rng + ?Sized>(min: f64, max: f64, rng: &mut R) -> f64 {
    min + (max - min) * rng.random::<f64>()
}

/// A normal draw, negative ones raised to 0.
#[inline(always)]
fn normal<R: Rng + ?Sized>(d: &Normal<f64>, rng: &mut R) -> f64 {
    d.sample(rng).max(0.0)
}

/// `n` draws of `draw` in base units, each handed to `each` as a `Q`.
#[inline(always)]
fn repeat<Q: Quantity, R: Rng + ?Sized>(
    n: u32,
    rng: &mut R,
    each: &mut impl FnMut(Q),
    mut draw: impl FnMut(&mut R) -> f64,
) {
    for _ in 0..n {
        each(Q::from_base(draw(rng)));
    }
}

impl<Q: Quantity> Default for Dist<Q>
where
    Q: Default,
{
    fn default() -> Self {
        Dist::constant(Q::default())
    }
}

#[derive(Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
enum Table<Q> {
    Constant { value: Q },
    Uniform { min: Q, max: Q },
    Exponential { mean: Q },
    Normal { mean: Q, sd: Q },
    Lognormal { mean: Q, sd: Q },
    Pareto { scale: Q, shape: f64 },
}

impl<Q: Quantity> TryFrom<Table<Q>> for Dist<Q> {
    type Error = String;

    fn try_from(table: Table<Q>) -> Result<Self, String> {
        let (shape, mean) = match table {
            Table::Constant { value } => (constant(value.to_base()), value.to_base()),
            Table::Uniform { min, max } => {
                let (min, max) = (min.to_base(), max.to_base());
                if min > max {
                    return Err("a uniform distribution needs min <= max".to_string());
                }
                (Shape::Uniform { min, max }, (min + max) / 2.0)
            }
            Table::Exponential { mean } => return Dist::exponential(mean),
            Table::Normal { mean, sd } => {
                let (mean, sd) = (mean.to_base(), sd.to_base());
                let normal = Normal::new(mean, sd).map_err(|e| format!("normal: {e}"))?;
                (Shape::Normal(normal), mean)
            }
            Table::Lognormal { mean, sd } => {
                let (mean, sd) = (mean.to_base(), sd.to_base());
                if mean <= 0.0 {
                    return Err("a lognormal distribution needs a mean above 0".to_string());
                }
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                let lognormal =
                    LogNormal::new(mu, sigma2.sqrt()).map_err(|e| format!("lognormal: {e}"))?;
                (Shape::LogNormal(lognormal), mean)
            }
            Table::Pareto { scale, shape } => {
                let scale = scale.to_base();
                if !(scale > 0.0 && shape > 0.0 && shape.is_finite()) {
                    return Err("a pareto distribution needs scale and shape above 0".to_string());
                }
                let pareto = Pareto::new(scale, shape).map_err(|e| format!("pareto: {e}"))?;
                let mean = if shape <= 1.0 {
                    f64::INFINITY
                } else {
                    shape * scale / (shape - 1.0)
                };
                (Shape::Pareto(pareto, scale), mean)
            }
        };
        Ok(Dist::from_shape(shape, mean))
    }
}

impl<'de, Q> Deserialize<'de> for Dist<Q>
where
    Q: Quantity + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<Q>(PhantomData<Q>);

        impl<Q> V<Q> {
            fn constant<'de, E, T>(value: T) -> Result<Dist<Q>, E>
            where
                Q: Quantity + Deserialize<'de>,
                E: de::Error,
                T: IntoDeserializer<'de, E>,
            {
                Q::deserialize(value.into_deserializer()).map(Dist::constant)
            }
        }

        impl<'de, Q: Quantity + Deserialize<'de>> Visitor<'de> for V<Q> {
            type Value = Dist<Q>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, or a table such as { dist = \"exponential\", mean = ... }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dist<Q>, E> {
                Self::constant(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist<Q>, E> {
                Self::constant(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist<Q>, E> {
                Self::constant(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist<Q>, E> {
                Self::constant(v)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dist<Q>, A::Error> {
                let table = Table::<Q>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Dist::try_from(table).map_err(de::Error::custom)
            }
        }

        deserializer.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smtpsim_des::RandomStreams;

    #[derive(Deserialize)]
    struct Holder {
        d: Dist<Duration>,
    }

    fn parse(text: &str) -> Result<Dist<Duration>, String> {
        toml::from_str::<Holder>(text)
            .map(|h| h.d)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn constants_and_tables() {
        assert!(parse("d = \"40ms\"").unwrap().is_constant());
        assert_eq!(parse("d = \"40ms\"").unwrap().mean(), 40_000.0);
        let exp = parse("d = { dist = \"exponential\", mean = \"2s\" }").unwrap();
        assert_eq!(exp.mean(), 2e6);
        let ln = parse("d = { dist = \"lognormal\", mean = \"2s\", sd = \"1s\" }").unwrap();
        assert!((ln.mean() - 2e6).abs() < 1.0);
    }

    #[test]
    fn errors_name_the_problem() {
        let err = parse("d = { dist = \"exponential\", mena = \"2s\" }").unwrap_err();
        assert!(err.contains("mena"), "{err}");
        let err = parse("d = { dist = \"gamma\", mean = \"2s\" }").unwrap_err();
        assert!(err.contains("gamma"), "{err}");
        let err = parse("d = { dist = \"uniform\", min = \"2s\", max = \"1s\" }").unwrap_err();
        assert!(err.contains("min <= max"), "{err}");
        let err = parse("d = 5").unwrap_err();
        assert!(err.contains("unit"), "{err}");
    }

    #[test]
    fn drawing_several_gives_the_single_draws() {
        for text in [
            "d = \"40ms\"",
            "d = { dist = \"exponential\", mean = \"1s\" }",
            "d = { dist = \"uniform\", min = \"0s\", max = \"2s\" }",
            "d = { dist = \"lognormal\", mean = \"1s\", sd = \"0.5s\" }",
            "d = { dist = \"pareto\", scale = \"0.5s\", shape = 2.5 }",
            "d = { dist = \"normal\", mean = \"10ms\", sd = \"20ms\" }",
        ] {
            let d = parse(text).unwrap();
            let mut one = RandomStreams::new(3).stream("test", 0);
            let mut each = RandomStreams::new(3).stream("test", 0);
            let singles: Vec<Duration> = (0..500).map(|_| d.sample(&mut one)).collect();
            let mut several = Vec::new();
            d.sample_each(500, &mut each, |v| several.push(v));
            assert_eq!(singles, several, "{text}");
            assert_eq!(
                one.random::<u64>(),
                each.random::<u64>(),
                "{text}: same draws used"
            );
        }
    }

    #[test]
    fn sample_means_match() {
        let mut rng = RandomStreams::new(7).stream("test", 0);
        for text in [
            "d = { dist = \"exponential\", mean = \"1s\" }",
            "d = { dist = \"uniform\", min = \"0s\", max = \"2s\" }",
            "d = { dist = \"lognormal\", mean = \"1s\", sd = \"0.5s\" }",
            "d = { dist = \"pareto\", scale = \"0.5s\", shape = 2.5 }",
            "d = { dist = \"normal\", mean = \"1s\", sd = \"0.1s\" }",
        ] {
            let d = parse(text).unwrap();
            let n = 200_000;
            let total: f64 = (0..n).map(|_| d.sample(&mut rng).micros() as f64).sum();
            let mean = total / n as f64;
            assert!(
                (mean / d.mean() - 1.0).abs() < 0.02,
                "{text}: {mean} vs {}",
                d.mean()
            );
        }
    }
}
