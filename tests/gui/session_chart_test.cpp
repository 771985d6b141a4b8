#include "isokin/gui/session_chart.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numbers>
#include <stdexcept>

#include <gtest/gtest.h>
#include <QAbstractAxis>
#include <QApplication>
#include <QCategoryAxis>
#include <QChart>
#include <QFileInfo>
#include <QImage>
#include <QLineSeries>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QValueAxis>

#include "isokin/acquisition/session.h"
#include "isokin/acquisition/session_file.h"

namespace isokin::gui {
namespace {

using acquisition::RecordedSet;
using acquisition::Session;

// gtest_main owns main(), so the QApplication lives in a global test environment: made before
// the first test and destroyed after the last, and never made when ctest only lists the tests
// (which it does at build time, without QT_QPA_PLATFORM).
class QtEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    // Remembered settings (QSettings) of this test process only, and of the isokin-gui it starts:
    // never the user's, never another test's.
    config_ = std::filesystem::temp_directory_path() /
              ("isokin-gui-test-config-" + std::to_string(::getpid()));
    qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString(config_.string()));
    app_ = std::make_unique<QApplication>(argc_, argv_);
    QApplication::setOrganizationName(QStringLiteral("isokin"));
    QApplication::setApplicationName(QStringLiteral("isokin-gui"));
  }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(config_);
  }

 private:
  int argc_ = 1;
  char name_[9] = "gui_test";
  char* argv_[2] = {name_, nullptr};
  std::unique_ptr<QApplication> app_;
  std::filesystem::path config_;
};
[[maybe_unused]] const auto* const kQtEnvironment =
    ::testing::AddGlobalTestEnvironment(new QtEnvironment);

constexpr double kRateHz = 2000.0;

// Knee extension/flexion at 2 kHz: angle ramps between 5° and 95°, torque 150·sin.
RecordedSet make_set(int index, drivers::Side side, double velocity, double seconds) {
  RecordedSet set;
  set.info.index = index;
  set.info.setpoint.side = side;
  set.info.setpoint.extension_velocity = velocity;
  set.info.setpoint.flexion_velocity = velocity;
  const auto samples = static_cast<std::size_t>(seconds * kRateHz);
  const double half_cycle = 90.0 / velocity;  // s from 5° to 95°
  for (std::size_t i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / kRateHz;
    const double phase = std::fmod(t, 2.0 * half_cycle) / half_cycle;  // 0..2
    drivers::Sample sample;
    sample.time = t;
    sample.angle = phase < 1.0 ? 5.0 + 90.0 * phase : 95.0 - 90.0 * (phase - 1.0);
    sample.velocity = phase < 1.0 ? velocity : -velocity;
    sample.torque = 150.0 * std::sin(std::numbers::pi * t / half_cycle);
    set.signals.append(sample);
  }
  set.stats.sample_count = samples;
  set.stats.complete = true;
  set.stats.end_reason = "end of stream";
  return set;
}

std::shared_ptr<const Session> make_session() {
  auto session = std::make_shared<Session>();
  session->complete = true;
  session->info.created_utc = "2026-11-25T12:00:00Z";
  session->info.software = "isokin 0.1.0";
  session->info.protocol_name = "knee 60/180";
  session->info.device.driver = "sim";
  session->info.device.model = "simulated dynamometer";
  session->info.device.sample_rate_hz = kRateHz;
  session->sets.push_back(make_set(0, drivers::Side::kLeft, 60.0, 6.0));
  session->sets.push_back(make_set(1, drivers::Side::kRight, 180.0, 3.0));
  return session;
}

// Shows the view off screen and lets the chart lay itself out, as a user would see it.
void lay_out(SessionChartView& view) {
  view.setAttribute(Qt::WA_DontShowOnScreen);
  view.show();
  QApplication::processEvents();
  view.refresh();
  QApplication::processEvents();
}

QLineSeries* series_named(const SessionChartView& view, const QString& name) {
  for (QAbstractSeries* series : view.chart()->series()) {
    if (series->name() == name) return qobject_cast<QLineSeries*>(series);
  }
  return nullptr;
}

QString axis_title(const SessionChartView& view, const QString& series, Qt::Orientation which) {
  const QList<QAbstractAxis*> axes = view.chart()->axes(which, series_named(view, series));
  for (QAbstractAxis* axis : axes) {
    if (qobject_cast<QCategoryAxis*>(axis) == nullptr) return axis->titleText();
  }
  return {};
}

// Pixels of the plot area (inside the axis lines) within `tolerance` of `color` per channel.
int count_pixels(const QImage& image, const QRect& area, const QColor& color, int tolerance = 24) {
  int count = 0;
  for (int y = area.top(); y <= area.bottom(); ++y) {
    for (int x = area.left(); x <= area.right(); ++x) {
      const QColor pixel = image.pixelColor(x, y);
      if (std::abs(pixel.red() - color.red()) <= tolerance &&
          std::abs(pixel.green() - color.green()) <= tolerance &&
          std::abs(pixel.blue() - color.blue()) <= tolerance) {
        ++count;
      }
    }
  }
  return count;
}

QRect plot_area_in_view(const SessionChartView& view) {
  const QRectF area = view.chart()->mapToScene(view.chart()->plotArea()).boundingRect();
  return view.mapFromScene(area).boundingRect().adjusted(3, 3, -3, -3);
}

TEST(SessionChartView, RendersTorqueAndAngleWithUnits) {
  SessionChartView view;
  view.resize(1000, 600);
  view.set_session(make_session(), 0);
  lay_out(view);

  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString png = dir.filePath(QStringLiteral("session_chart.png"));
  const QImage image = view.grab().toImage();
  ASSERT_TRUE(image.save(png));
  EXPECT_EQ(QImage(png).size(), QSize(1000, 600));

  const QRect plot = plot_area_in_view(view);
  ASSERT_GT(plot.width(), 700) << "axes and legend should leave most of the width to the plot";
  ASSERT_GT(plot.height(), 350);
  EXPECT_GT(count_pixels(image, plot, SessionChartView::kTorqueColor), 300);
  EXPECT_GT(count_pixels(image, plot, SessionChartView::kAngleColor), 300);

  EXPECT_TRUE(axis_title(view, "Torque", Qt::Vertical).contains(QStringLiteral("N·m")));
  EXPECT_TRUE(axis_title(view, "Angle", Qt::Vertical).contains(QStringLiteral("°")));
  EXPECT_TRUE(axis_title(view, "Torque", Qt::Horizontal).contains(QStringLiteral("(s)")));
  EXPECT_TRUE(view.chart()->title().contains(QStringLiteral("left")));
  EXPECT_TRUE(view.chart()->title().contains(QStringLiteral("60 °/s")));
  if (HasFailure()) {
    dir.setAutoRemove(false);
    ADD_FAILURE() << "rendering kept in " << png.toStdString();
  }
}

TEST(SessionChartView, DecimatesToThePlotWidth) {
  SessionChartView view;
  view.resize(1000, 600);
  view.set_session(make_session(), 0);  // 12,000 samples
  lay_out(view);
  const auto max_points = [&] {
    return static_cast<qsizetype>(2.0 * std::ceil(view.chart()->plotArea().width()));
  };
  const qsizetype wide = series_named(view, "Torque")->count();
  EXPECT_LE(wide, max_points());
  EXPECT_GE(wide, max_points() / 2);
  EXPECT_LE(series_named(view, "Angle")->count(), max_points());

  // Once laid out, the chart stays put: no refresh keeps scheduling another.
  QSignalSpy replaced(series_named(view, "Torque"), &QXYSeries::pointsReplaced);
  QTest::qWait(200);
  EXPECT_EQ(replaced.count(), 0);

  // A resize re-decimates by itself, a moment later.
  view.resize(600, 400);
  ASSERT_TRUE(replaced.wait(1000));
  EXPECT_LE(series_named(view, "Torque")->count(), max_points());
  EXPECT_LT(series_named(view, "Torque")->count(), wide);
  // Extremes survive decimation: the axis still shows the whole ±150 N·m.
  const auto* torque_axis =
      qobject_cast<QValueAxis*>(view.chart()->axes(Qt::Vertical, series_named(view, "Torque"))[0]);
  ASSERT_NE(torque_axis, nullptr);
  EXPECT_LT(torque_axis->min(), -149.9);
  EXPECT_GT(torque_axis->max(), 149.9);
}

TEST(SessionChartView, ShowsAllSetsBackToBackWithBoundaries) {
  SessionChartView view;
  view.resize(1000, 600);
  const std::shared_ptr<const Session> session = make_session();
  view.set_session(session);  // all sets by default
  lay_out(view);
  EXPECT_EQ(view.shown_set(), SessionChartView::kAllSets);

  QCategoryAxis* sets = nullptr;
  for (QAbstractAxis* axis : view.chart()->axes(Qt::Horizontal)) {
    if (auto* category = qobject_cast<QCategoryAxis*>(axis)) sets = category;
  }
  ASSERT_NE(sets, nullptr);
  EXPECT_TRUE(sets->isVisible());
  ASSERT_EQ(sets->count(), 2);
  const double first_end = 6.0 - 1.0 / kRateHz;
  EXPECT_NEAR(sets->endValue(sets->categoriesLabels()[0]), first_end, 1e-9);
  EXPECT_NEAR(sets->endValue(sets->categoriesLabels()[1]), first_end + 3.0 - 1.0 / kRateHz, 1e-9);
  EXPECT_TRUE(view.chart()->title().contains(QStringLiteral("All sets")));
  EXPECT_EQ(view.chart()->series().size(), 3);  // torque, angle, one boundary line

  view.show_set(1);
  EXPECT_FALSE(sets->isVisible());
  EXPECT_EQ(view.chart()->series().size(), 2);
  EXPECT_TRUE(view.chart()->title().contains(QStringLiteral("right")));
  EXPECT_THROW(view.show_set(2), std::out_of_range);
  EXPECT_EQ(view.shown_set(), 1);
  // A bad set in a new session leaves the current one in place.
  EXPECT_THROW(view.set_session(make_session(), 5), std::out_of_range);
  EXPECT_EQ(view.shown_set(), 1);
  EXPECT_EQ(view.session(), session);
}

TEST(SessionChartView, EmptyChartShowsTheHint) {
  SessionChartView view;
  view.resize(800, 500);
  view.clear(QStringLiteral("Open a session file"));
  lay_out(view);
  EXPECT_EQ(view.chart()->title(), QStringLiteral("Open a session file"));
  EXPECT_EQ(series_named(view, "Torque")->count(), 0);
  EXPECT_THROW(view.show_set(0), std::out_of_range);
  EXPECT_FALSE(view.grab().toImage().isNull());
}

// The isokin-gui executable, run as a user would.
class IsokinGuiProgram : public ::testing::Test {
 protected:
  struct Result {
    int exit_code = -1;
    QString stderr_text;
  };

  Result run(const QStringList& arguments) {
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // A private runtime directory (0700, as Qt wants) keeps Qt's warnings out of stderr.
    environment.insert(QStringLiteral("XDG_RUNTIME_DIR"), dir_.path());
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(ISOKIN_GUI_PATH), arguments);
    EXPECT_TRUE(process.waitForFinished(60'000)) << "isokin-gui did not finish";
    EXPECT_EQ(process.exitStatus(), QProcess::NormalExit) << "isokin-gui crashed";
    return {process.exitCode(), QString::fromUtf8(process.readAllStandardError())};
  }

  QString path(const char* name) const { return dir_.filePath(QString::fromUtf8(name)); }

  QTemporaryDir dir_;
};

TEST_F(IsokinGuiProgram, SavesAScreenshotOfASessionFile) {
  const QString session = path("session.h5");
  const QString png = path("window.png");
  acquisition::write_session(session.toStdString(), *make_session());

  const Result result = run({session, "--set", "2", "--screenshot", png, "--size", "1200x720"});

  EXPECT_EQ(result.exit_code, 0) << result.stderr_text.toStdString();
  const QImage image(png);
  ASSERT_FALSE(image.isNull()) << png.toStdString() << " missing or unreadable";
  EXPECT_EQ(image.size(), QSize(1200, 720));
}

TEST_F(IsokinGuiProgram, RejectsAGarbageFileWithOneLine) {
  const QString garbage = path("garbage.h5");
  {
    std::ofstream out(garbage.toStdString(), std::ios::binary);
    out << "this is not an HDF5 file\n" << std::string(4096, '\x5a');
  }

  const Result result = run({garbage, "--screenshot", path("never.png")});

  EXPECT_EQ(result.exit_code, 1);
  const QString message = result.stderr_text.trimmed();
  EXPECT_TRUE(message.contains(garbage)) << message.toStdString();
  EXPECT_FALSE(message.contains('\n')) << "expected one line, got:\n" << message.toStdString();
  EXPECT_FALSE(QFileInfo::exists(path("never.png")));
}

// The fuzzer's file on which libhdf5 1.10 loops (docs/security.md): read in a child process
// first, so the viewer gives up after its time limit with one line instead of hanging.
TEST_F(IsokinGuiProgram, RejectsAFileOnWhichLibhdf5LoopsWithOneLine) {
  const QString hostile = QStringLiteral(ISOKIN_SOURCE_DIR "/tests/data/hostile-h5hg-read-hang.h5");

  const Result result = run({hostile, "--screenshot", path("never.png")});

  EXPECT_EQ(result.exit_code, 1);
  const QString message = result.stderr_text.trimmed();
  EXPECT_TRUE(message.startsWith("isokin-gui: " + hostile + ": ")) << message.toStdString();
  EXPECT_FALSE(message.contains('\n')) << "expected one line, got:\n" << message.toStdString();
  EXPECT_FALSE(QFileInfo::exists(path("never.png")));
}

TEST_F(IsokinGuiProgram, RejectsBadUsage) {
  EXPECT_EQ(run({"--size", "big"}).exit_code, 2);
  EXPECT_EQ(run({"--set", "2"}).exit_code, 2);  // --set without a FILE
}

}  // namespace
}  // namespace isokin::gui
