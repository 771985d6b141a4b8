// isokin-gui: a viewer for recorded sessions (torque and angle against time).
//
//   isokin-gui [FILE] [--set N|all] [--screenshot OUT.png] [--size WxH]
//
// Exit codes: 0 success, 1 the file or the screenshot could not be read or written, 2 bad usage.

#include <cstdio>
#include <memory>
#include <optional>

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMainWindow>
#include <QMenuBar>
#include <QMessageBox>
#include <QRegularExpression>
#include <QToolBar>

#include "isokin/acquisition/session_file.h"
#include "isokin/gui/session_chart.h"

namespace {

using isokin::acquisition::Session;
using isokin::gui::SessionChartView;

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
const QString kHint = QStringLiteral("No session loaded · File ▸ Open… (Ctrl+O)");

void print_error(const QString& message) {
  std::fprintf(stderr, "isokin-gui: %s\n", qUtf8Printable(message));
}

// Reads a session file; throws SessionFileError ("<path>: <problem>") when it cannot. Files
// come from anywhere: libhdf5 first meets them in a child process (docs/security.md).
std::shared_ptr<const Session> load_session(const QString& path) {
  return std::make_shared<const Session>(
      isokin::acquisition::read_untrusted_session(QFile::encodeName(path).toStdString()));
}

// The window: a chart of the session and a picker for the set it shows.
class ViewerWindow : public QMainWindow {
 public:
  ViewerWindow() : chart_(new SessionChartView), set_picker_(new QComboBox) {
    setCentralWidget(chart_);
    chart_->clear(kHint);

    QMenu* file_menu = menuBar()->addMenu(tr("&File"));
    file_menu->addAction(tr("&Open…"), QKeySequence::Open, this, &ViewerWindow::choose_file);
    file_menu->addSeparator();
    file_menu->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QToolBar* toolbar = addToolBar(tr("Set"));
    toolbar->setMovable(false);
    toolbar->addWidget(new QLabel(tr(" Set: ")));
    set_picker_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    set_picker_->setPlaceholderText(tr("no session"));
    set_picker_->setEnabled(false);
    toolbar->addWidget(set_picker_);
    connect(set_picker_, &QComboBox::activated, this,
            [this](int item) { chart_->show_set(set_picker_->itemData(item).toInt()); });
    setWindowTitle(QStringLiteral("isokin-gui"));
  }

  [[nodiscard]] SessionChartView* chart() const { return chart_; }

  void show_session(std::shared_ptr<const Session> session, const QString& path, int set) {
    set_picker_->clear();
    set_picker_->addItem(tr("All sets"), SessionChartView::kAllSets);
    for (std::size_t i = 0; i < session->sets.size(); ++i) {
      set_picker_->addItem(isokin::gui::set_label(session->sets[i]), static_cast<int>(i));
    }
    set_picker_->setCurrentIndex(set_picker_->findData(set));
    set_picker_->setEnabled(true);
    chart_->set_session(std::move(session), set);
    setWindowTitle(QStringLiteral("%1 — isokin-gui").arg(QFileInfo(path).fileName()));
  }

 private:
  void choose_file() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open session"), QString(), tr("isokin sessions (*.h5 *.hdf5);;All files (*)"));
    if (path.isEmpty()) return;
    try {
      show_session(load_session(path), path, SessionChartView::kAllSets);
    } catch (const isokin::acquisition::SessionFileError& error) {
      QMessageBox::warning(this, tr("Cannot open session"), QString::fromStdString(error.what()));
    }
  }

  SessionChartView* chart_;
  QComboBox* set_picker_;
};

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

// Renders the window without putting it on screen and saves it as an image.
bool save_screenshot(ViewerWindow& window, const QString& path) {
  window.setAttribute(Qt::WA_DontShowOnScreen);
  window.show();
  QApplication::processEvents();  // lays out the window and the chart
  window.chart()->refresh();      // decimates for the final plot width
  QApplication::processEvents();
  return window.grab().save(path);
}

}  // namespace

int main(int argc, char* argv[]) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("isokin-gui"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Shows a recorded isokin session."));
  const QCommandLineOption help = parser.addHelpOption();
  const QCommandLineOption version = parser.addVersionOption();
  const QCommandLineOption set_option(
      QStringLiteral("set"), QStringLiteral("Set to show: its number (1 = first) or 'all'."),
      QStringLiteral("N"), QStringLiteral("all"));
  const QCommandLineOption screenshot_option(
      QStringLiteral("screenshot"),
      QStringLiteral("Save an image of the window to OUT.png and exit, without showing it."),
      QStringLiteral("OUT.png"));
  const QCommandLineOption size_option(QStringLiteral("size"),
                                       QStringLiteral("Window size in pixels (default 1200x700)."),
                                       QStringLiteral("WxH"), QStringLiteral("1200x700"));
  parser.addOptions({set_option, screenshot_option, size_option});
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
  if (files.size() > 1) {
    print_error(QStringLiteral("expected at most one FILE, got %1").arg(files.size()));
    return kExitUsage;
  }
  if (!size) {
    print_error(QStringLiteral("--size: expected WxH such as 1200x700, got '%1'")
                    .arg(parser.value(size_option)));
    return kExitUsage;
  }
  if (!set) {
    print_error(QStringLiteral("--set: expected a set number (1 = first) or 'all', got '%1'")
                    .arg(parser.value(set_option)));
    return kExitUsage;
  }

  ViewerWindow window;
  window.resize(*size);
  if (!files.isEmpty()) {
    const QString& path = files.front();
    std::shared_ptr<const Session> session;
    try {
      session = load_session(path);
    } catch (const isokin::acquisition::SessionFileError& error) {
      print_error(QString::fromStdString(error.what()));  // already "<path>: <problem>"
      return kExitFailure;
    }
    if (*set >= static_cast<int>(session->sets.size())) {
      print_error(QStringLiteral("%1: --set %2, but the session has %3 set(s)")
                      .arg(path)
                      .arg(*set + 1)
                      .arg(session->sets.size()));
      return kExitUsage;
    }
    window.show_session(std::move(session), path, *set);
  } else if (parser.isSet(set_option)) {
    print_error(QStringLiteral("--set needs a FILE"));
    return kExitUsage;
  }

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
