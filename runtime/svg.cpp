// SVG text for report charts: scales, ticks, axes, legends and the bar and scatter chart layouts.
#include "runtime/svg.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace mixpe::runtime::svg {
namespace {

constexpr double kTitleSize = 15;
constexpr double kLabelSize = 12;
constexpr double kTickSize = 11;
constexpr const char* kAxisColor = "#555";
constexpr const char* kGridColor = "#e3e3e3";
constexpr const char* kFontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif";

std::string num(double v) {
  // Coordinates: one decimal is below a pixel's resolution at any zoom a report is read at.
  if (std::abs(v) < 0.05) return "0";
  return fmt::format("{:.1f}", v);
}

double nice_step(double lo, double hi, int target) {
  const double rough = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(rough)));
  const double r = rough / mag;
  return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

std::string tooltip_child(std::string_view tooltip) {
  return tooltip.empty() ? std::string() : "<title>" + escape(tooltip) + "</title>";
}

// Where the plot frame starts below the title and the legend.
double frame_top(double legend_h) { return 34 + (legend_h > 0 ? legend_h + 6 : 0); }

const char* anchor_name(Anchor a) {
  switch (a) {
    case Anchor::kMiddle: return "middle";
    case Anchor::kEnd: return "end";
    default: return "start";
  }
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string format_number(double v, int significant) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e4) {
    static constexpr const char* kSuffix[] = {"", "k", "M", "G", "T", "P"};
    const int e3 = std::min(5, static_cast<int>(std::floor(std::log10(a) / 3)));
    const double scaled = v / std::pow(10.0, 3 * e3);
    const int digits = std::max(0, significant - 1 - static_cast<int>(std::floor(std::log10(std::abs(scaled)))));
    return fmt::format("{:.{}f}{}", scaled, digits, kSuffix[e3]);
  }
  if (a >= std::pow(10.0, significant - 1)) return fmt::format("{:.0f}", v);
  const int digits = std::max(0, significant - 1 - static_cast<int>(std::floor(std::log10(a))));
  return fmt::format("{:.{}f}", v, digits);
}

std::string format_tick(double v, double step) {
  assert(step > 0);
  if (std::abs(v) < step * 1e-6) return "0";
  if (step >= 1000) {
    static constexpr const char* kSuffix[] = {"", "k", "M", "G", "T", "P"};
    const int e3 = std::min(5, static_cast<int>(std::floor(std::log10(step) / 3 + 1e-9)));
    const double scale = std::pow(10.0, 3 * e3);
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step / scale) + 1e-9)));
    return fmt::format("{:.{}f}{}", v / scale, decimals, kSuffix[e3]);
  }
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
  const double step = nice_step(lo, hi, target);
  const auto first = static_cast<long long>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<long long>(std::floor(hi / step + 1e-9));
  for (long long k = first; k <= last; ++k) ticks.push_back(static_cast<double>(k) * step);
  return ticks;
}

std::pair<double, double> nice_domain(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= lo == 0 ? 0 : pad;
    hi += pad;
  }
  const double step = nice_step(lo, hi, target);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step};
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(lo > 0) || !(hi > lo)) return ticks;
  const int d0 = static_cast<int>(std::ceil(std::log10(lo) - 1e-9));
  const int d1 = static_cast<int>(std::floor(std::log10(hi) + 1e-9));
  const int decades = d1 - d0 + 1;
  const int every = std::max(1, (decades + 7) / 8);  // at most about 8 labels
  for (int d = d0; d <= d1; d += every) ticks.push_back(std::pow(10.0, d));
  if (ticks.size() < 3) {
    for (int d = d0 - 1; d <= d1; ++d) {
      for (const double m : {2.0, 5.0}) {
        const double v = m * std::pow(10.0, d);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
      }
    }
    std::sort(ticks.begin(), ticks.end());
  }
  return ticks;
}

std::pair<double, double> log_domain(double lo, double hi) {
  assert(lo > 0 && hi > 0);
  double a = std::pow(10.0, std::floor(std::log10(lo) + 1e-9));
  double b = std::pow(10.0, std::ceil(std::log10(hi) - 1e-9));
  if (b <= a) b = a * 10;
  return {a, b};
}

Scale Scale::linear(double lo, double hi, double r0, double r1) {
  assert(hi > lo);
  return Scale(lo, hi, r0, r1, false);
}

Scale Scale::log(double lo, double hi, double r0, double r1) {
  assert(lo > 0 && hi > lo);
  return Scale(lo, hi, r0, r1, true);
}

double Scale::operator()(double v) const {
  const double t = log_ ? (std::log10(v) - std::log10(lo_)) / (std::log10(hi_) - std::log10(lo_)) : (v - lo_) / (hi_ - lo_);
  return r0_ + t * (r1_ - r0_);
}

std::vector<double> Scale::ticks(int target) const { return log_ ? log_ticks(lo_, hi_) : nice_ticks(lo_, hi_, target); }

double text_width(std::string_view text, double size) {
  // Advance widths of DejaVu Sans (wider than Helvetica/Arial, so the estimate errs on the safe side).
  double em = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (std::string_view("iljtf.,:;'|! ()[]").find(static_cast<char>(c)) != std::string_view::npos) {
      em += 0.34;
    } else if (c == 'm' || c == 'w' || c == 'M' || c == 'W') {
      em += 0.92;
    } else if (c >= 'A' && c <= 'Z') {
      em += 0.72;
    } else if (c >= '0' && c <= '9') {
      em += 0.64;
    } else {
      em += 0.6;
    }
  }
  return em * size;
}

std::string fit_text(const std::string& text, double size, double max_px) {
  if (text_width(text, size) <= max_px) return text;
  const std::string ellipsis = "\xE2\x80\xA6";  // U+2026
  std::string cut = text;
  while (!cut.empty() && text_width(cut, size) + text_width(".", size) * 2 > max_px) {
    cut.pop_back();
    while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80) cut.pop_back();
    if (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0xC0) cut.pop_back();  // lead byte of a cut character
  }
  return cut + ellipsis;
}

Canvas::Canvas(double width, double height, std::string id, std::string title, std::string description)
    : width_(width), height_(height), id_(std::move(id)), title_(std::move(title)), description_(std::move(description)) {}

void Canvas::rect(double x, double y, double w, double h, std::string_view fill, std::string_view cls, std::string_view tooltip) {
  body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"", num(x), num(y), num(std::max(0.0, w)),
                       num(std::max(0.0, h)), escape(fill));
  if (!cls.empty()) body_ += fmt::format(" class=\"{}\"", escape(cls));
  body_ += tooltip.empty() ? std::string("/>") : fmt::format(">{}</rect>", tooltip_child(tooltip));
  body_ += "\n";
}

void Canvas::line(double x1, double y1, double x2, double y2, std::string_view stroke, double width, std::string_view dash) {
  body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"", num(x1), num(y1), num(x2),
                       num(y2), escape(stroke), width);
  if (!dash.empty()) body_ += fmt::format(" stroke-dasharray=\"{}\"", escape(dash));
  body_ += "/>\n";
}

void Canvas::polyline(const std::vector<std::pair<double, double>>& points, std::string_view stroke, double width, std::string_view cls,
                      std::string_view dash) {
  if (points.size() < 2) return;
  std::string pts;
  for (const auto& [x, y] : points) pts += fmt::format("{}{},{}", pts.empty() ? "" : " ", num(x), num(y));
  body_ += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\"", pts,
                       escape(stroke), width);
  if (!cls.empty()) body_ += fmt::format(" class=\"{}\"", escape(cls));
  if (!dash.empty()) body_ += fmt::format(" stroke-dasharray=\"{}\"", escape(dash));
  body_ += "/>\n";
}

void Canvas::circle(double cx, double cy, double r, std::string_view fill, std::string_view stroke, std::string_view cls,
                    std::string_view tooltip) {
  body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"", num(cx), num(cy), r, escape(fill));
  if (!stroke.empty()) body_ += fmt::format(" stroke=\"{}\" stroke-width=\"1\"", escape(stroke));
  if (!cls.empty()) body_ += fmt::format(" class=\"{}\"", escape(cls));
  body_ += tooltip.empty() ? std::string("/>") : fmt::format(">{}</circle>", tooltip_child(tooltip));
  body_ += "\n";
}

void Canvas::text(double x, double y, std::string_view s, Anchor anchor, double size, std::string_view fill, bool bold, double rotate_deg,
                  std::string_view tooltip) {
  body_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"", num(x), num(y), size, escape(fill));
  if (anchor != Anchor::kStart) body_ += fmt::format(" text-anchor=\"{}\"", anchor_name(anchor));
  if (bold) body_ += " font-weight=\"bold\"";
  if (rotate_deg != 0) body_ += fmt::format(" transform=\"rotate({} {} {})\"", rotate_deg, num(x), num(y));
  body_ += fmt::format(">{}{}</text>\n", escape(s), tooltip_child(tooltip));
}

std::string Canvas::str() const {
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{}\" class=\"chart\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" font-family=\"{}\" font-size=\"{}\">\n<title>{}</title>\n",
      escape(id_), num(width_), num(height_), num(width_), num(height_), kFontFamily, kLabelSize, escape(title_));
  if (!description_.empty()) out += "<desc>" + escape(description_) + "</desc>\n";
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", num(width_), num(height_));
  out += fmt::format("<text x=\"12\" y=\"22\" font-size=\"{}\" font-weight=\"bold\" fill=\"#111\" class=\"chart-title\">{}</text>\n",
                     kTitleSize, escape(title_));
  return out + body_ + "</svg>\n";
}

std::string Canvas::standalone() const { return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + str(); }

void draw_x_axis(Canvas& c, const Frame& f, const Scale& x, const std::string& label, bool grid) {
  const std::vector<double> ticks = x.ticks(std::max(2, static_cast<int>(f.width() / 90)));
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : std::max(std::abs(x.hi() - x.lo()), 1e-30);
  for (const double t : ticks) {
    const double px = x(t);
    if (grid) c.line(px, f.top, px, f.bottom, kGridColor);
    c.line(px, f.bottom, px, f.bottom + 4, kAxisColor);
    c.text(px, f.bottom + 16, x.is_log() ? format_tick(t, t) : format_tick(t, step), Anchor::kMiddle, kTickSize, "#333");
  }
  c.line(f.left, f.bottom, f.right, f.bottom, kAxisColor);
  c.text((f.left + f.right) / 2, f.bottom + 34, label, Anchor::kMiddle, kLabelSize, "#222");
}

void draw_y_axis(Canvas& c, const Frame& f, const Scale& y, const std::string& label, bool grid) {
  const std::vector<double> ticks = y.ticks(std::max(2, static_cast<int>(f.height() / 50)));
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : std::max(std::abs(y.hi() - y.lo()), 1e-30);
  double widest = 0;
  for (const double t : ticks) {
    const double py = y(t);
    if (grid) c.line(f.left, py, f.right, py, kGridColor);
    c.line(f.left - 4, py, f.left, py, kAxisColor);
    const std::string s = y.is_log() ? format_tick(t, t) : format_tick(t, step);
    widest = std::max(widest, text_width(s, kTickSize));
    c.text(f.left - 7, py + 4, s, Anchor::kEnd, kTickSize, "#333");
  }
  c.line(f.left, f.top, f.left, f.bottom, kAxisColor);
  const double lx = std::max(14.0, f.left - widest - 16);
  c.text(lx, (f.top + f.bottom) / 2, label, Anchor::kMiddle, kLabelSize, "#222", false, -90);
}

namespace {
constexpr double kLegendRow = 18;
double entry_width(const LegendEntry& e) { return (e.line ? 26 : 16) + text_width(e.label, kTickSize) + 16; }
}  // namespace

double legend_height(double max_width, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return 0;
  double x = 0, rows = 1;
  for (const LegendEntry& e : entries) {
    const double w = entry_width(e);
    if (x > 0 && x + w > max_width) {
      rows += 1;
      x = 0;
    }
    x += w;
  }
  return rows * kLegendRow;
}

double draw_legend(Canvas& c, double x, double y, double max_width, const std::vector<LegendEntry>& entries) {
  if (entries.empty()) return 0;
  double cx = x, cy = y;
  for (const LegendEntry& e : entries) {
    const double w = entry_width(e);
    if (cx > x && cx + w > x + max_width) {
      cx = x;
      cy += kLegendRow;
    }
    if (e.line) {
      c.line(cx, cy + 7, cx + 20, cy + 7, e.color, 2, e.dash);
      c.text(cx + 26, cy + 11, e.label, Anchor::kStart, kTickSize, "#333");
    } else {
      c.rect(cx, cy + 1, 11, 11, e.color);
      c.text(cx + 16, cy + 11, e.label, Anchor::kStart, kTickSize, "#333");
    }
    cx += w;
  }
  return cy - y + kLegendRow;
}

const std::string& palette(std::size_t i) {
  static const std::vector<std::string> kColors = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kColors[i % kColors.size()];
}

Canvas render(const HBarChart& ch) {
  assert(ch.values.size() == ch.categories.size());
  const std::size_t ns = ch.series.empty() ? 1 : ch.series.size();
  auto series_color = [&](std::size_t s) { return s < ch.series_colors.size() ? ch.series_colors[s] : palette(s); };
  std::vector<LegendEntry> legend = ch.legend;
  if (legend.empty() && ns > 1) {
    for (std::size_t s = 0; s < ns; ++s) legend.push_back({ch.series[s], series_color(s)});
  }
  double label_px = 0;
  for (const std::string& cat : ch.categories) label_px = std::max(label_px, text_width(cat, kTickSize));
  label_px = std::min(label_px, ch.max_label_px);
  double end_px = 0;
  for (const std::string& e : ch.end_labels) end_px = std::max(end_px, text_width(e, 10));
  const double legend_w = ch.width - 24;
  const double legend_h = legend_height(legend_w, legend);
  Frame f;
  f.left = 12 + label_px + 10;
  f.right = ch.width - 18 - (end_px > 0 ? end_px + 6 : 0);
  f.top = frame_top(legend_h);
  f.bottom = f.top + ch.row_height * static_cast<double>(std::max<std::size_t>(1, ch.categories.size()));
  Canvas c(ch.width, f.bottom + 46, ch.id, ch.title, ch.description);
  draw_legend(c, 12, 30, legend_w, legend);

  double max_sum = 0;
  for (const std::vector<double>& row : ch.values) {
    double s = 0;
    for (const double v : row) s += std::max(0.0, v);
    max_sum = std::max(max_sum, s);
  }
  const auto [lo, hi] = nice_domain(0, max_sum > 0 ? max_sum : 1, std::max(2, static_cast<int>(f.width() / 90)));
  const Scale x = Scale::linear(lo, hi, f.left, f.right);
  draw_x_axis(c, f, x, ch.x_label);
  for (std::size_t i = 0; i < ch.categories.size(); ++i) {
    const double y = f.top + ch.row_height * static_cast<double>(i);
    const std::string tip = i < ch.tooltips.size() ? ch.tooltips[i] : ch.categories[i];
    c.text(f.left - 8, y + ch.row_height / 2 + 4, fit_text(ch.categories[i], kTickSize, label_px), Anchor::kEnd, kTickSize, "#222", false,
           0, ch.categories[i]);
    double acc = 0;
    for (std::size_t s = 0; s < ns && s < ch.values[i].size(); ++s) {
      const double v = std::max(0.0, ch.values[i][s]);
      std::string color = series_color(s);
      if (ns == 1 && i < ch.bar_colors.size()) color = ch.bar_colors[i];
      const std::string seg_tip = ns > 1 ? fmt::format("{}: {}: {}", ch.categories[i], ch.series[s], format_number(v)) : tip;
      c.rect(x(acc), y + 3, x(acc + v) - x(acc), ch.row_height - 6, color, ns > 1 ? "segment" : "bar", seg_tip);
      acc += v;
    }
    if (i < ch.end_labels.size()) c.text(x(acc) + 5, y + ch.row_height / 2 + 4, ch.end_labels[i], Anchor::kStart, 10, "#444");
  }
  c.line(f.left, f.top, f.left, f.bottom, kAxisColor);
  return c;
}

Canvas render(const GroupedBarChart& ch) {
  assert(ch.values.size() == ch.categories.size());
  const std::size_t ns = std::max<std::size_t>(1, ch.series.size());
  auto series_color = [&](std::size_t s) { return s < ch.series_colors.size() ? ch.series_colors[s] : palette(s); };
  std::vector<LegendEntry> legend;
  if (ch.series.size() > 1) {
    for (std::size_t s = 0; s < ns; ++s) legend.push_back({ch.series[s], series_color(s)});
  }
  if (ch.reference >= 0 && !ch.reference_label.empty()) legend.push_back({ch.reference_label, "#333", true, "5,4"});
  const double legend_w = ch.width - 24;
  const double legend_h = legend_height(legend_w, legend);
  const double left = 66, right = ch.width - 16;
  const double group_w = (right - left) / static_cast<double>(std::max<std::size_t>(1, ch.categories.size()));
  double label_w = 0;
  for (const std::string& cat : ch.categories) label_w = std::max(label_w, text_width(cat, kTickSize));
  const bool rotate = label_w > group_w - 6;
  const double label_h = rotate ? std::min(label_w, 160.0) * 0.5 + 14 : 18;
  Frame f{left, frame_top(legend_h), right, ch.height - label_h - 30};
  Canvas c(ch.width, ch.height, ch.id, ch.title, ch.description);
  draw_legend(c, 12, 30, legend_w, legend);

  double vmax = ch.reference > 0 ? ch.reference : 0;
  for (const std::vector<double>& row : ch.values)
    for (const double v : row) vmax = std::max(vmax, v);
  const auto [lo, hi] = nice_domain(0, vmax > 0 ? vmax * 1.08 : 1, std::max(2, static_cast<int>(f.height() / 50)));
  const Scale y = Scale::linear(lo, hi, f.bottom, f.top);
  draw_y_axis(c, f, y, ch.y_label);
  const double bar_w = group_w * 0.72 / static_cast<double>(ns);
  for (std::size_t i = 0; i < ch.categories.size(); ++i) {
    const double gx = f.left + group_w * static_cast<double>(i);
    for (std::size_t s = 0; s < ns && s < ch.values[i].size(); ++s) {
      const double v = std::max(0.0, ch.values[i][s]);
      const double bx = gx + group_w * 0.14 + bar_w * static_cast<double>(s);
      const std::string sname = s < ch.series.size() ? ch.series[s] : "";
      c.rect(bx, y(v), bar_w - 1, f.bottom - y(v), series_color(s), "bar", fmt::format("{} {}: {}", ch.categories[i], sname, format_number(v)));
      if (bar_w >= 26) c.text(bx + bar_w / 2, y(v) - 3, format_number(v), Anchor::kMiddle, 9.5, "#333");
    }
    const std::string name = fit_text(ch.categories[i], kTickSize, rotate ? 160 : group_w - 4);
    if (rotate) {
      c.text(gx + group_w / 2 + 4, f.bottom + 14, name, Anchor::kEnd, kTickSize, "#222", false, -30, ch.categories[i]);
    } else {
      c.text(gx + group_w / 2, f.bottom + 16, name, Anchor::kMiddle, kTickSize, "#222", false, 0, ch.categories[i]);
    }
  }
  if (ch.reference >= 0 && ch.reference <= hi) c.line(f.left, y(ch.reference), f.right, y(ch.reference), "#333", 1.2, "5,4");
  c.line(f.left, f.bottom, f.right, f.bottom, kAxisColor);
  return c;
}

Canvas render(const ScatterChart& ch) {
  std::vector<LegendEntry> legend;
  for (const ScatterSeries& s : ch.series) {
    if (s.name.empty()) continue;
    legend.push_back({s.name, s.color, !s.markers, s.dash});
  }
  const double legend_w = ch.width - 24;
  const double legend_h = legend_height(legend_w, legend);
  Frame f{76, frame_top(legend_h), ch.width - 22, ch.height - 48};
  Canvas c(ch.width, ch.height, ch.id, ch.title, ch.description);
  draw_legend(c, 12, 30, legend_w, legend);

  auto domain = [&](bool is_x, bool log, double over_lo, double over_hi) -> std::pair<double, double> {
    if (over_hi > over_lo) return {over_lo, over_hi};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const ScatterSeries& s : ch.series) {
      for (const ScatterPoint& p : s.points) {
        const double v = is_x ? p.x : p.y;
        if (!std::isfinite(v) || (log && v <= 0)) continue;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    if (!(hi >= lo)) return log ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
    if (log) return log_domain(lo, hi);
    const double pad = hi > lo ? (hi - lo) * 0.06 : std::max(std::abs(hi) * 0.1, 1e-9);
    return nice_domain(lo - pad, hi + pad, 6);
  };
  const std::pair<double, double> xd = domain(true, ch.x_log, ch.x_min, ch.x_max), yd = domain(false, ch.y_log, ch.y_min, ch.y_max);
  const double x0 = xd.first, x1 = xd.second, y0 = yd.first, y1 = yd.second;
  const Scale x = ch.x_log ? Scale::log(x0, x1, f.left, f.right) : Scale::linear(x0, x1, f.left, f.right);
  const Scale y = ch.y_log ? Scale::log(y0, y1, f.bottom, f.top) : Scale::linear(y0, y1, f.bottom, f.top);
  draw_x_axis(c, f, x, ch.x_label);
  draw_y_axis(c, f, y, ch.y_label);
  auto inside = [&](const ScatterPoint& p) {
    const double eps = 1e-9;
    return std::isfinite(p.x) && std::isfinite(p.y) && (!ch.x_log || p.x > 0) && (!ch.y_log || p.y > 0) &&
           p.x >= x0 - eps * std::abs(x0) && p.x <= x1 + eps * std::abs(x1) && p.y >= y0 - eps * std::abs(y0) &&
           p.y <= y1 + eps * std::abs(y1);
  };
  for (const ScatterSeries& s : ch.series) {
    if (s.connect) {
      std::vector<std::pair<double, double>> pts;
      for (const ScatterPoint& p : s.points)
        if (inside(p)) pts.emplace_back(x(p.x), y(p.y));
      c.polyline(pts, s.color, s.line_width, s.markers ? "" : "line", s.dash);
    }
    if (!s.markers) continue;
    for (const ScatterPoint& p : s.points) {
      if (!inside(p)) continue;
      c.circle(x(p.x), y(p.y), s.radius, s.color, "#ffffff", s.mark_class, p.tooltip);
    }
  }
  for (const Annotation& a : ch.annotations) {
    if (!inside({a.x, a.y, ""})) continue;
    c.text(x(a.x), y(a.y) + a.dy, a.text, a.anchor, 10.5, "#333");
  }
  c.line(f.left, f.top, f.right, f.top, "#cccccc");
  c.line(f.right, f.top, f.right, f.bottom, "#cccccc");
  return c;
}

}  // namespace mixpe::runtime::svg
