// `mixpe report`: simulate/compare JSON and sweep results into one self-contained HTML page of SVG charts.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "runtime/commands.h"
#include "runtime/report_html.h"

namespace mixpe::runtime {

CommandAction add_report_command(CLI::App& app) {
  struct State {
    std::vector<std::string> inputs;
    std::string output, svg_dir, title = "mixpe report";
    bool quiet = false;
  };
  auto st = std::make_shared<State>();
  CLI::App* cmd = app.add_subcommand("report", "Render simulate/compare JSON and sweep CSV or .pareto.json files as one self-contained "
                                               "HTML page of SVG charts (docs/reports.md)");
  cmd->add_option("inputs", st->inputs, "mixpe simulate --json, mixpe compare --json, mixpe sweep results .csv or .pareto.json files")
      ->required();
  cmd->add_option("-o,--output", st->output, "HTML file to write")->required();
  cmd->add_option("--svg-dir", st->svg_dir, "Also write every chart as a standalone <chart id>.svg in this directory");
  cmd->add_option("--title", st->title, "Page title")->capture_default_str();
  cmd->add_flag("-q,--quiet", st->quiet, "Do not list the files written");
  return [st]() {
    // Every input is read and checked before anything is written.
    std::vector<ReportInput> inputs;
    for (const std::string& path : st->inputs) inputs.push_back(load_report_input(path));
    const ReportPage page = build_report(inputs, st->title);
    const std::vector<std::string> written = write_report(page, st->output, st->svg_dir);
    if (!st->quiet) {
      fmt::print(stderr, "mixpe report: {} charts from {} inputs -> {}", page.charts.size(), inputs.size(), st->output);
      if (!st->svg_dir.empty()) fmt::print(stderr, " (and {} SVG files in {})", written.size() - 1, st->svg_dir);
      fmt::print(stderr, "\n");
    }
    return 0;
  };
}

}  // namespace mixpe::runtime
