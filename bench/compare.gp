# The chart of bench/compare.sh, from its compare.tsv (one row per load: series, process,
# endpoint, req/s, p50, p99, errors, requests, CPU µs/req, postgres CPU µs/req):
# requests per second (log scale) and server CPU µs per request, grouped by endpoint.
#
#   gnuplot -e "tsv='bench/results/compare.tsv'; png='bench/results/compare.png'; terminal='pngcairo'" bench/compare.gp

if (terminal eq "pngcairo") {
  set terminal pngcairo size 1400,1000 font "sans,10"
} else {
  set terminal png size 1400,1000
}
set output png
set datafile separator "\t"
# "-" marks a figure not measured; gnuplot 5.4's "set datafile missing" crashes the labels
num(k) = strcol(k) eq "-" ? NaN : column(k)

endpoints = "healthz client_credentials introspection refresh_token authorization_code task_api"
titles = "'GET /healthz' 'client\\_credentials' 'introspection' 'refresh\\_token' 'authorize + token' 'GET /api/tasks'"
endpoint_at(e) = sum [i = 1:words(endpoints)] (word(endpoints, i) eq e ? i : 0)
# x of a bar: its endpoint's slot, shifted by its place among n series of bar width w
bar_x(e, place, n, w) = endpoint_at(e) == 0 ? NaN : endpoint_at(e) + (place - (n + 1) / 2.0) * w

set xtics ("" 0)
do for [i = 1:words(endpoints)] {
  set xtics add (word(titles, i) i)
}
set xrange [0.4:words(endpoints) + 0.6]
set style fill solid 0.85 border -1
set grid ytics
set key at screen 0.75, graph 1 left top vertical Left reverse
set lmargin at screen 0.07
set rmargin at screen 0.74
set multiplot layout 2, 1 title "ours (SQLite, PostgreSQL) against oidc-provider and bare actix-web — one worker pinned to one core, same run"

# Panel 1: req/s
series = "ours-sqlite ours-postgres oidc-provider bare-actix"
series_titles = "'ours, SQLite' 'ours, PostgreSQL' 'oidc-provider (memory)' 'bare actix-web'"
colors = "#1f77b4 #ff7f0e #2ca02c #7f7f7f"
w1 = 0.2
set title "requests per second (log scale; authorize + token counts both requests of a flow)"
set ylabel "req/s"
set logscale y
set yrange [100:*]
set boxwidth w1
plot for [s = 1:words(series)] tsv using \
  (strcol(1) eq word(series, s) ? bar_x(strcol(3), s, words(series), w1) : NaN):(num(4)) \
  with boxes lc rgb word(colors, s) title word(series_titles, s), \
  for [s = 1:words(series)] tsv using \
  (strcol(1) eq word(series, s) ? bar_x(strcol(3), s, words(series), w1) : NaN):(num(4)):(sprintf("%.0f", num(4))) \
  with labels offset 0, 0.6 font ",8" notitle

# Panel 2: CPU µs per request, the PostgreSQL processes as their own bar
cpu_series = "ours-sqlite ours-postgres postgres oidc-provider bare-actix"
cpu_titles = "'auth-server / resource-api, SQLite' 'auth-server / resource-api, PostgreSQL' 'postgres processes (PostgreSQL run)' 'oidc-provider (node)' 'bare actix-web'"
cpu_colors = "#1f77b4 #ff7f0e #d62728 #2ca02c #7f7f7f"
# column of a CPU series' value and the rows' series it is read from
cpu_column(s) = s == 3 ? 10 : 9
cpu_from(s) = s == 3 ? "ours-postgres" : word(cpu_series, s)
w2 = 0.16
set title "server CPU per request (utime + stime over completed requests)"
set ylabel "CPU µs / request"
unset logscale y
set yrange [0:*]
set offsets 0, 0, graph 0.06, 0
set boxwidth w2
plot for [s = 1:words(cpu_series)] tsv using \
  (strcol(1) eq cpu_from(s) ? bar_x(strcol(3), s, words(cpu_series), w2) : NaN):(num(cpu_column(s))) \
  with boxes lc rgb word(cpu_colors, s) title word(cpu_titles, s), \
  for [s = 1:words(cpu_series)] tsv using \
  (strcol(1) eq cpu_from(s) ? bar_x(strcol(3), s, words(cpu_series), w2) : NaN)\
  :(num(cpu_column(s))):(sprintf("%.0f", num(cpu_column(s)))) \
  with labels offset 0, 0.6 font ",8" notitle
unset multiplot
