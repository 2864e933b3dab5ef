// A small SVG writer for report charts: scales with nice ticks, axes, legends, bars, stacked and
// grouped bars, scatter plots and lines, producing self-contained SVG text (no scripts, no fonts).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mixpe::runtime::svg {

// Escapes & < > " ' for XML text and attribute values.
std::string escape(std::string_view text);

// A compact number for labels: 3 significant digits, SI suffix (k, M, G, T, P) from 1e4 up.
std::string format_number(double v, int significant = 3);

// A tick label: as many decimals as the tick step needs, SI suffixes for large values.
std::string format_tick(double v, double step);

// Ticks at 1, 2 or 5 x 10^k spaced about (hi - lo) / target apart, every one inside [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target);
// [lo, hi] widened outward to the nearest multiples of the nice tick step.
std::pair<double, double> nice_domain(double lo, double hi, int target);
// Powers of ten inside [lo, hi] (lo > 0); with fewer than three, 2 and 5 x 10^k as well.
std::vector<double> log_ticks(double lo, double hi);
// [lo, hi] widened outward to powers of ten (lo, hi > 0).
std::pair<double, double> log_domain(double lo, double hi);

// Maps data values in [lo, hi] to pixels in [r0, r1], linearly or by log10.
class Scale {
 public:
  static Scale linear(double lo, double hi, double r0, double r1);
  static Scale log(double lo, double hi, double r0, double r1);
  double operator()(double v) const;
  std::vector<double> ticks(int target = 6) const;
  bool is_log() const { return log_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double r0() const { return r0_; }
  double r1() const { return r1_; }

 private:
  Scale(double lo, double hi, double r0, double r1, bool log) : lo_(lo), hi_(hi), r0_(r0), r1_(r1), log_(log) {}
  double lo_, hi_, r0_, r1_;
  bool log_;
};

enum class Anchor { kStart, kMiddle, kEnd };

// Approximate rendered width of `text` in pixels at `size` px (sans-serif, ASCII-weighted).
double text_width(std::string_view text, double size);
// `text` cut to at most `max_px` wide with a trailing ellipsis when it was longer.
std::string fit_text(const std::string& text, double size, double max_px);

// Builds one <svg> element. Marks (bars, points) carry a class so tests and stylesheets can find
// them; a non-empty tooltip becomes a <title> child, which browsers show on hover without scripts.
class Canvas {
 public:
  Canvas(double width, double height, std::string id, std::string title, std::string description = "");
  void rect(double x, double y, double w, double h, std::string_view fill, std::string_view cls = "", std::string_view tooltip = "");
  void line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1, std::string_view dash = "");
  void polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke, double width = 1.5,
                std::string_view cls = "", std::string_view dash = "");
  void circle(double cx, double cy, double r, std::string_view fill, std::string_view stroke = "", std::string_view cls = "",
              std::string_view tooltip = "");
  void text(double x, double y, std::string_view s, Anchor anchor = Anchor::kStart, double size = 12, std::string_view fill = "#222",
            bool bold = false, double rotate_deg = 0, std::string_view tooltip = "");
  double width() const { return width_; }
  double height() const { return height_; }
  const std::string& id() const { return id_; }
  // The <svg> element with xmlns (valid inline in HTML and as a file's root).
  std::string str() const;
  // A standalone .svg file: XML declaration plus str().
  std::string standalone() const;

 private:
  double width_, height_;
  std::string id_, title_, description_;
  std::string body_;
};

// The plot area inside a canvas, in pixels.
struct Frame {
  double left, top, right, bottom;
  double width() const { return right - left; }
  double height() const { return bottom - top; }
};

// Axes along the frame's bottom and left edges with ticks, tick labels, light grid lines and titles.
void draw_x_axis(Canvas& c, const Frame& f, const Scale& x, const std::string& label, bool grid = true);
void draw_y_axis(Canvas& c, const Frame& f, const Scale& y, const std::string& label, bool grid = true);

struct LegendEntry {
  LegendEntry(std::string label_, std::string color_, bool line_ = false, std::string dash_ = "")
      : label(std::move(label_)), color(std::move(color_)), line(line_), dash(std::move(dash_)) {}
  std::string label;
  std::string color;
  bool line = false;  // a line sample instead of a square swatch
  std::string dash;
};
// Entries left to right from (x, y), wrapping at x + max_width; returns the height used.
double draw_legend(Canvas& c, double x, double y, double max_width, const std::vector<LegendEntry>& entries);
// The height draw_legend would use, without drawing.
double legend_height(double max_width, const std::vector<LegendEntry>& entries);

// A qualitative palette of ten colours distinguishable on white.
const std::string& palette(std::size_t i);

// Horizontal bars, one row per category, each row the stack of its segments (one segment per
// series; a single series gives plain bars). Marks: class "bar" (single series) or "segment".
struct HBarChart {
  std::string id, title, description, x_label;
  std::vector<std::string> categories;
  std::vector<std::string> series;               // names, for the legend (omitted when one series)
  std::vector<std::string> series_colors;        // default: the palette
  std::vector<std::vector<double>> values;       // [category][series], >= 0
  std::vector<std::string> bar_colors;           // single series: per-category colour (optional)
  std::vector<LegendEntry> legend;               // explicit legend (e.g. for bar_colors)
  std::vector<std::string> end_labels;           // text right of each bar (optional)
  std::vector<std::string> tooltips;             // per category (optional)
  double width = 760;
  double row_height = 20;
  double max_label_px = 230;                     // category names longer than this are cut
};
Canvas render(const HBarChart& chart);

// Vertical bars grouped per category, one bar per series. Marks: class "bar".
struct GroupedBarChart {
  std::string id, title, description, y_label;
  std::vector<std::string> categories;
  std::vector<std::string> series;
  std::vector<std::string> series_colors;
  std::vector<std::vector<double>> values;       // [category][series], >= 0
  double reference = -1;                         // a dashed horizontal line at this value when >= 0
  std::string reference_label;
  double width = 760, height = 360;
};
Canvas render(const GroupedBarChart& chart);

struct ScatterPoint {
  double x = 0, y = 0;
  std::string tooltip;
};
struct ScatterSeries {
  ScatterSeries(std::string name_ = "", std::string color_ = "", std::vector<ScatterPoint> points_ = {})
      : name(std::move(name_)), color(std::move(color_)), points(std::move(points_)) {}
  std::string name, color;
  std::vector<ScatterPoint> points;
  bool markers = true;       // circles (class `mark_class`)
  bool connect = false;      // a polyline through the points in the given order
  double radius = 3.5;
  std::string mark_class = "point";
  std::string dash;          // of the connecting line
  double line_width = 1.5;
};
struct Annotation {
  double x = 0, y = 0;       // data coordinates
  std::string text;
  Anchor anchor = Anchor::kStart;
  double dy = -5;            // pixel offset
};
struct ScatterChart {
  std::string id, title, description, x_label, y_label;
  std::vector<ScatterSeries> series;  // drawn in order (later on top)
  std::vector<Annotation> annotations;
  bool x_log = false, y_log = false;
  // Domain overrides (otherwise from the data, padded); both bounds or neither.
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  double width = 760, height = 420;
};
// Points outside the domain (or <= 0 on a log axis) are left out.
Canvas render(const ScatterChart& chart);

}  // namespace mixpe::runtime::svg
