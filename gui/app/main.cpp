// isokin-gui: the desktop application — subject and protocol, the live test with its curves,
// the report (PDF, PNG) and a browser of recorded sessions.
//
//   isokin-gui [FILE] [--set N|all] [--report] [--pdf OUT.pdf] [--lab NAME] [--paper A4|Letter]
//              [--tab subject|live|report|sessions] [--screenshot OUT.png] [--size WxH]
//
// Exit codes: 0 success, 1 the file, the report or the screenshot could not be read or
// written, 2 bad usage.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTabWidget>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/analysis/session_analysis.h"
#include "isokin/gui/main_window.h"
#include "isokin/gui/session_chart.h"

namespace {

using isokin::gui::MainWindow;
using isokin::gui::SessionChartView;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void print_error(const QString& message) {
  std::fprintf(stderr, "isokin-gui: %s\n", qUtf8Printable(message));
}

std::optional<QSize> parse_size(const QString& text) {
  static const QRegularExpression pattern(QStringLiteral("^(\\d{2,5})x(\\d{2,5})$"));
  const QRegularExpressionMatch match = pattern.match(text);
  if (!match.hasMatch()) return std::nullopt;
  return QSize(match.captured(1).toInt(), match.captured(2).toInt());
}

// "all" or a 1-based set number as shown in the window; returns a SessionChartView set index.
std::optional<int> parse_set(const QString& text) {
  if (text == QLatin1String("all")) return SessionChartView::kAllSets;
  bool ok = false;
  const int number = text.toInt(&ok);
  if (!ok || number < 1) return std::nullopt;
  return number - 1;
}

std::optional<int> parse_tab(const QString& text) {
  const QStringList names{QStringLiteral("subject"), QStringLiteral("live"),
                          QStringLiteral("report"), QStringLiteral("sessions")};
  const auto index = names.indexOf(text);
  if (index < 0) return std::nullopt;
  return static_cast<int>(index);
}

// Renders the window without putting it on screen and saves it as an image.
bool save_screenshot(MainWindow& window, const QString& path) {
  window.setAttribute(Qt::WA_DontShowOnScreen);
  window.show();
  QApplication::processEvents();  // lays out the window and the charts
  window.sessions_page()->preview->refresh();
  QApplication::processEvents();
  return window.grab().save(path);
}

// --pdf and --screenshot draw without a screen: they must work on a machine with no display.
void draw_offscreen_when_asked(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    if (arg.starts_with("--pdf") || arg.starts_with("--screenshot")) {
      ::setenv("QT_QPA_PLATFORM", "offscreen", 0);  // an explicit choice is kept
      return;
    }
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  // Session files are first tried by a fresh copy of this program (docs/security.md): the
  // application reads them while a test may be recording on another thread, where fork() is
  // not safe.
  if (const auto status = isokin::acquisition::run_session_probe(argc, argv, "--probe-session")) {
    return *status;
  }
  {
    std::error_code error;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) isokin::acquisition::use_session_probe_program({self.string(), "--probe-session"});
  }
  draw_offscreen_when_asked(argc, argv);
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("isokin"));  // QSettings: ~/.config/isokin/
  QApplication::setApplicationName(QStringLiteral("isokin-gui"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral(
      "isokin desktop application: run isokinetic tests, see them live, report them."));
  const QCommandLineOption help = parser.addHelpOption();
  const QCommandLineOption version = parser.addVersionOption();
  const QCommandLineOption set_option(
      QStringLiteral("set"),
      QStringLiteral("Set of FILE to show: its number (1 = first) or 'all'."), QStringLiteral("N"),
      QStringLiteral("all"));
  const QCommandLineOption report_option(QStringLiteral("report"),
                                         QStringLiteral("Show FILE's report."));
  const QCommandLineOption pdf_option(QStringLiteral("pdf"),
                                      QStringLiteral("Write FILE's report as a PDF and exit."),
                                      QStringLiteral("OUT.pdf"));
  const QCommandLineOption lab_option(QStringLiteral("lab"),
                                      QStringLiteral("Laboratory name on the report (default: "
                                                     "the one last chosen in the window)."),
                                      QStringLiteral("NAME"), QStringLiteral("isokin laboratory"));
  const QCommandLineOption paper_option(QStringLiteral("paper"),
                                        QStringLiteral("Report paper size: A4 or Letter "
                                                       "(default: the one last chosen)."),
                                        QStringLiteral("SIZE"), QStringLiteral("A4"));
  const QCommandLineOption tab_option(
      QStringLiteral("tab"), QStringLiteral("Tab to open: subject, live, report or sessions."),
      QStringLiteral("NAME"));
  const QCommandLineOption screenshot_option(
      QStringLiteral("screenshot"),
      QStringLiteral("Save an image of the window to OUT.png and exit, without showing it."),
      QStringLiteral("OUT.png"));
  const QCommandLineOption size_option(QStringLiteral("size"),
                                       QStringLiteral("Window size in pixels (default 1280x800)."),
                                       QStringLiteral("WxH"), QStringLiteral("1280x800"));
  parser.addOptions({set_option, report_option, pdf_option, lab_option, paper_option, tab_option,
                     screenshot_option, size_option});
  parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("Session file to open."),
                               QStringLiteral("[FILE]"));

  if (!parser.parse(QApplication::arguments())) {
    print_error(parser.errorText());
    return kExitUsage;
  }
  if (parser.isSet(help)) parser.showHelp(0);
  if (parser.isSet(version)) parser.showVersion();
  const QStringList files = parser.positionalArguments();
  const std::optional<QSize> size = parse_size(parser.value(size_option));
  const std::optional<int> set = parse_set(parser.value(set_option));
  const QString paper = parser.value(paper_option);
  std::optional<int> tab;
  if (parser.isSet(tab_option)) {
    tab = parse_tab(parser.value(tab_option));
    if (!tab) {
      print_error(QStringLiteral("--tab: expected subject, live, report or sessions, got '%1'")
                      .arg(parser.value(tab_option)));
      return kExitUsage;
    }
  }
  if (files.size() > 1) {
    print_error(QStringLiteral("expected at most one FILE, got %1").arg(files.size()));
    return kExitUsage;
  }
  if (!size) {
    print_error(QStringLiteral("--size: expected WxH such as 1280x800, got '%1'")
                    .arg(parser.value(size_option)));
    return kExitUsage;
  }
  if (!set) {
    print_error(QStringLiteral("--set: expected a set number (1 = first) or 'all', got '%1'")
                    .arg(parser.value(set_option)));
    return kExitUsage;
  }
  if (paper != QLatin1String("A4") && paper != QLatin1String("Letter")) {
    print_error(QStringLiteral("--paper: expected A4 or Letter, got '%1'").arg(paper));
    return kExitUsage;
  }
  if (files.isEmpty()) {
    for (const auto& option : {set_option, report_option, pdf_option}) {
      if (parser.isSet(option)) {
        print_error(QStringLiteral("--%1 needs a FILE").arg(option.names().front()));
        return kExitUsage;
      }
    }
  }

  // A report to a PDF needs no window.
  if (parser.isSet(pdf_option)) {
    const QString& path = files.front();
    try {
      isokin::gui::AnalysedSession current;
      current.session = std::make_shared<const isokin::acquisition::Session>(
          isokin::acquisition::read_untrusted_session(QFile::encodeName(path).toStdString()));
      current.analysis = isokin::analysis::analyze_session(*current.session);
      // What the window last used, unless the command line says otherwise.
      isokin::gui::ReportOptions options = isokin::gui::remembered_report_options();
      if (parser.isSet(lab_option)) options.lab_name = parser.value(lab_option);
      if (parser.isSet(paper_option)) {
        options.page = paper == QLatin1String("Letter") ? QPageSize::Letter : QPageSize::A4;
      }
      isokin::gui::Report(std::move(current), std::move(options))
          .write_pdf(parser.value(pdf_option));
    } catch (const std::exception& error) {
      print_error(QString::fromStdString(error.what()));
      return kExitFailure;
    }
    return 0;
  }

  MainWindow window(isokin::acquisition::shipped_directory("protocols", ISOKIN_PROTOCOLS_DIR));
  window.resize(*size);
  if (parser.isSet(lab_option)) window.set_lab_name(parser.value(lab_option));
  if (!files.isEmpty()) {
    const QString& path = files.front();
    try {
      window.sessions_page()->show_file(path, *set);
    } catch (const isokin::acquisition::SessionFileError& error) {
      print_error(QString::fromStdString(error.what()));  // already "<path>: <problem>"
      return kExitFailure;
    } catch (const std::out_of_range&) {
      print_error(
          QStringLiteral("%1: --set %2, but the session has fewer sets").arg(path).arg(*set + 1));
      return kExitUsage;
    } catch (const std::system_error& error) {  // the reading child process could not start
      print_error(QStringLiteral("%1: %2").arg(path, QString::fromStdString(error.what())));
      return kExitFailure;
    }
    window.tabs()->setCurrentWidget(window.sessions_page());
    if (parser.isSet(report_option) && !window.show_report(path)) return kExitFailure;
  }
  if (tab) window.tabs()->setCurrentIndex(*tab);

  if (parser.isSet(screenshot_option)) {
    const QString out = parser.value(screenshot_option);
    if (!save_screenshot(window, out)) {
      print_error(QStringLiteral("%1: cannot write the screenshot").arg(out));
      return kExitFailure;
    }
    return 0;
  }
  window.show();
  return QApplication::exec();
}
