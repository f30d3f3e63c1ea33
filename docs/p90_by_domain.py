# The p90 latency of each recipient domain against the first retry interval, from the tidy
# sweep_domains.csv of the README's sweep example (multiplier 2).
import sys

import matplotlib
import pandas as pd
import seaborn as sns

matplotlib.use("Agg")
df = pd.read_csv(sys.argv[1] if len(sys.argv) > 1 else "reports/greylisting-sweep/sweep_domains.csv")
p90 = df[(df.metric == "latency_p90_s") & (df["relay.retry.multiplier"] == 2)]
ax = sns.lineplot(data=p90, x="relay.retry.initial_s", y="value", hue="domain", marker="o")
ax.set(xscale="log", ylabel="latency p90, s")
sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1))
ax.figure.savefig("docs/p90_by_domain.png", dpi=100, bbox_inches="tight")
