// The desktop application driven through its real widgets, offscreen: a whole simulated bilateral
// knee test from the subject form to the PDF report, checked against what `isokin analyze`
// computes from the same file.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>

#include "isokin/acquisition/protocol.h"
#include "isokin/acquisition/session_file.h"
#include "isokin/gui/main_window.h"
#include "isokin/gui/session_chart.h"

namespace isokin::gui {
namespace {

// Runs a program and returns its standard output; fails the test when it does not exit with 0.
QByteArray run_program(const QString& program, const QStringList& arguments) {
  QProcess process;
  process.start(program, arguments);
  EXPECT_TRUE(process.waitForFinished(120'000)) << program.toStdString() << " did not finish";
  EXPECT_EQ(process.exitCode(), 0)
      << program.toStdString() << ": " << process.readAllStandardError().toStdString();
  return process.readAllStandardOutput();
}

// True when the image has more than a handful of distinct colours: something was drawn.
bool has_content(const QImage& image) {
  QSet<QRgb> colours;
  for (int y = 0; y < image.height(); y += 7) {
    for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
    if (colours.size() > 8) return true;
  }
  return false;
}

QString one_decimal(double value) {
  return QString::number(value, 'f', 1);
}

// Where the screenshots go: $ISOKIN_SCREENSHOT_DIR (docs/ refreshes them), else the test's
// temporary directory.
QString screenshot_dir(const QTemporaryDir& dir) {
  const QString wanted = qEnvironmentVariable("ISOKIN_SCREENSHOT_DIR");
  return wanted.isEmpty() ? dir.path() : wanted;
}

void select_data(QComboBox* box, const QString& data) {
  const int index = box->findData(data);
  ASSERT_GE(index, 0) << data.toStdString();
  box->setCurrentIndex(index);
}

// One test, because the simulated protocol is the expensive part.
TEST(DesktopApp, RunsABilateralKneeTestAndReportsWhatAnalyzeComputes) {
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  const QString shots = screenshot_dir(dir);
  MainWindow window(ISOKIN_PROTOCOLS_DIR);
  window.resize(1280, 800);
  window.setAttribute(Qt::WA_DontShowOnScreen);
  window.show();
  QApplication::processEvents();

  // The subject form, typed as an operator would.
  SubjectPage* subject = window.subject_page();
  subject->folder_edit->setText(dir.path());
  QTest::mouseClick(subject->start, Qt::LeftButton);
  EXPECT_TRUE(subject->problem->text().contains(QStringLiteral("subject ID")))
      << subject->problem->text().toStdString();
  EXPECT_EQ(window.tabs()->currentIndex(), 0) << "no test may start without a subject ID";
  QTest::keyClicks(subject->subject_id, QStringLiteral("S-0142"));
  subject->body_mass->setValue(72.5);
  select_data(subject->sex, QStringLiteral("female"));
  subject->age->setValue(24);
  QTest::keyClicks(subject->sport, QStringLiteral("football"));
  select_data(subject->dominant_side, QStringLiteral("right"));
  select_data(subject->injured_side, QStringLiteral("left"));
  select_data(subject->device, QStringLiteral("sim"));
  subject->protocol->setCurrentIndex(subject->protocol->findText("knee-60-180-bilateral"));
  subject->without_waiting->setChecked(true);
  EXPECT_TRUE(has_content(window.grab().toImage()));
  window.grab().save(QDir(shots).filePath(QStringLiteral("gui-subject.png")));

  QSignalSpy finished(&window, &MainWindow::test_finished);
  QTest::mouseClick(subject->start, Qt::LeftButton);
  EXPECT_EQ(window.tabs()->currentWidget(), window.live_page());
  EXPECT_TRUE(subject->problem->text().isEmpty()) << subject->problem->text().toStdString();

  // The live page while the test runs: repetitions appear as they are analysed.
  LivePage* live = window.live_page();
  QTRY_VERIFY_WITH_TIMEOUT(live->phases->rowCount() >= 6 || !finished.isEmpty(), 120'000);
  live->curves->redraw();
  window.grab().save(QDir(shots).filePath(QStringLiteral("gui-live.png")));
  QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 300'000);
  const QString path = finished.front().at(1).toString();
  EXPECT_TRUE(finished.front().at(0).toBool()) << "the test did not complete";
  ASSERT_TRUE(QFileInfo::exists(path)) << path.toStdString();
  // 4 test sets × 5 repetitions × 2 movements, every phase shown live (the two gravity trials
  // have no repetitions).
  EXPECT_EQ(live->phases->rowCount(), 40);
  EXPECT_GT(live->curves->sample_count(), 1000u);

  // The subject page now lists this session among the subject's sessions.
  ASSERT_EQ(subject->earlier->count(), 1);
  EXPECT_TRUE(subject->earlier->item(0)->text().contains(QStringLiteral("knee-60-180-bilateral")));

  // The file holds the subject as typed.
  const auto session = acquisition::read_session(path.toStdString());
  EXPECT_TRUE(session.complete);
  EXPECT_EQ(session.info.subject.id, "S-0142");
  EXPECT_DOUBLE_EQ(session.info.subject.body_mass_kg, 72.5);
  EXPECT_EQ(session.sets.size(), 6u);  // each side: gravity trial, 60 and 180 °/s
  EXPECT_EQ(session.info.subject.sex, "female");
  EXPECT_EQ(session.info.subject.age_years, 24);
  EXPECT_EQ(session.info.subject.sport, "football");
  EXPECT_EQ(session.info.subject.dominant_side, drivers::Side::kRight);
  EXPECT_EQ(session.info.subject.injured_side, drivers::Side::kLeft);

  // The report opened by itself, and every number it shows is the CLI's.
  ASSERT_EQ(window.tabs()->currentIndex(), 2);
  ASSERT_TRUE(window.report_view()->report());
  const QString shown = window.report_view()->browser()->toPlainText();
  const auto analyzed =
      nlohmann::json::parse(run_program(QStringLiteral(ISOKIN_CLI_PATH),
                                        {QStringLiteral("analyze"), path, QStringLiteral("--json")})
                                .toStdString());
  ASSERT_EQ(analyzed["bilateral"].size(), 4u);
  for (const auto& b : analyzed["bilateral"]) {
    EXPECT_TRUE(shown.contains(one_decimal(b["left_peak_torque_nm"].get<double>())));
    EXPECT_TRUE(shown.contains(one_decimal(b["right_peak_torque_nm"].get<double>())));
    EXPECT_TRUE(shown.contains(one_decimal(b["deficit_percent"].get<double>())));
  }
  for (const auto& set : analyzed["sets"]) {
    for (const char* movement : {"extension", "flexion"}) {
      const auto& m = set[movement];
      EXPECT_TRUE(shown.contains(one_decimal(std::abs(m["peak_torque_nm"].get<double>()))));
      EXPECT_TRUE(shown.contains(one_decimal(m["total_work_j"].get<double>())))
          << m["total_work_j"];
      EXPECT_TRUE(shown.contains(
          QString::number(std::abs(m["peak_torque_per_body_mass_nm_kg"].get<double>()), 'f', 2)));
    }
  }
  for (const auto& r : analyzed["ratios"]) {
    EXPECT_TRUE(shown.contains(QString::number(r["value"].get<double>(), 'f', 2)));
  }
  EXPECT_TRUE(shown.contains(QStringLiteral("S-0142")));
  EXPECT_TRUE(shown.contains(QStringLiteral("football")));
  EXPECT_TRUE(shown.contains(QStringLiteral("right / left")));
  window.grab().save(QDir(shots).filePath(QStringLiteral("gui-report.png")));

  // The PDF a physician gets: A4 pages with the tables, the flags and the curves.
  window.set_lab_name(QStringLiteral("Test Sports Lab"));
  const QString pdf = dir.filePath(QStringLiteral("report.pdf"));
  window.report_view()->report()->write_pdf(pdf);
  const QString info = QString::fromUtf8(run_program(QStringLiteral("pdfinfo"), {pdf}));
  EXPECT_TRUE(info.contains(QRegularExpression(QStringLiteral("Pages:\\s+[3-6]\\n"))))
      << info.toStdString();
  EXPECT_TRUE(info.contains(QStringLiteral("(A4)"))) << info.toStdString();
  // pdftotext gives the "fi" of the font's ligature as one character.
  const QString text =
      QString::fromUtf8(run_program(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}))
          .replace(QChar(0xfb01), QStringLiteral("fi"));
  for (const QString& expected :
       {QStringLiteral("Test Sports Lab"), QStringLiteral("S-0142"),
        QStringLiteral("Peak torque and bilateral deficit"), QStringLiteral("Conventional H:Q"),
        QStringLiteral("Strength ratios"), QStringLiteral("limb symmetry index")}) {
    EXPECT_TRUE(text.contains(expected)) << expected.toStdString();
  }
  for (const auto& b : analyzed["bilateral"]) {
    EXPECT_TRUE(text.contains(one_decimal(b["left_peak_torque_nm"].get<double>())));
  }
  if (const QString keep = qEnvironmentVariable("ISOKIN_SCREENSHOT_DIR"); !keep.isEmpty()) {
    QFile::remove(QDir(keep).filePath(QStringLiteral("report-example.pdf")));
    QFile::copy(pdf, QDir(keep).filePath(QStringLiteral("report-example.pdf")));
  }

  // Every chart exports as a PNG with something drawn in it, and is in the PDF as an image.
  const QStringList charts = window.report_view()->report()->chart_titles();
  EXPECT_GE(charts.size(), 4);
  const QString images =
      QString::fromUtf8(run_program(QStringLiteral("pdfimages"), {QStringLiteral("-list"), pdf}));
  EXPECT_GE(images.count(QStringLiteral(" image ")), charts.size()) << images.toStdString();
  for (int i = 0; i < charts.size(); ++i) {
    const QString png = dir.filePath(QStringLiteral("chart-%1.png").arg(i));
    window.report_view()->report()->save_chart_png(i, png);
    EXPECT_TRUE(has_content(QImage(png))) << charts[i].toStdString();
  }

  // The sessions browser lists the new file; Ctrl+4 opens it.
  QApplication::setActiveWindow(&window);  // shortcuts go to the active window
  QTest::keyClick(&window, Qt::Key_4, Qt::ControlModifier);
  EXPECT_EQ(window.tabs()->currentWidget(), window.sessions_page());
  SessionsPage* sessions = window.sessions_page();
  ASSERT_EQ(sessions->files->rowCount(), 1);
  EXPECT_EQ(sessions->files->item(0, 1)->text(), QStringLiteral("S-0142"));
  EXPECT_EQ(sessions->files->item(0, 4)->text(), QStringLiteral("complete"));
  sessions->files->selectRow(0);
  sessions->preview->refresh();
  window.grab().save(QDir(shots).filePath(QStringLiteral("gui-sessions.png")));

  // A second session of the same subject: its report shows the progress table.
  const QString later = dir.filePath(QStringLiteral("S-0142_later.h5"));
  auto copy = session;
  copy.info.created_utc = "2099-01-01T00:00:00Z";
  acquisition::write_session(later.toStdString(), copy);
  ASSERT_TRUE(window.show_report(later));
  EXPECT_TRUE(window.report_view()->browser()->toPlainText().contains(
      QStringLiteral("Progress: peak torque left / right")));
}

TEST(DesktopApp, ReportOfAnUnreadableFileSaysWhyWithoutADialog) {
  QTemporaryDir dir;
  const QString bad = dir.filePath(QStringLiteral("bad.h5"));
  {
    std::ofstream out(bad.toStdString());
    out << "not a session";
  }
  MainWindow window(ISOKIN_PROTOCOLS_DIR);
  EXPECT_FALSE(window.show_report(bad));
  EXPECT_FALSE(window.report_view()->report());
  EXPECT_TRUE(window.report_view()->browser()->toPlainText().contains(bad));
}

// The laboratory name, paper size and session folder a lab chose are there at the next start,
// in the window and in `isokin-gui FILE --pdf` (which runs without one); --lab and --paper win.
TEST(DesktopApp, RemembersTheLaboratoryPaperAndFolder) {
  QTemporaryDir dir;
  const QString folder = dir.filePath(QStringLiteral("sessions"));
  ASSERT_TRUE(QDir().mkpath(folder));
  {
    MainWindow window(ISOKIN_PROTOCOLS_DIR);
    window.lab_name_edit()->setText(QStringLiteral("Sports Lab Basel"));
    Q_EMIT window.lab_name_edit()->editingFinished();
    // The report page's paper box is the one offering "Letter".
    QComboBox* paper = nullptr;
    for (auto* box : window.findChildren<QComboBox*>()) {
      if (box->findText(QStringLiteral("Letter")) >= 0) paper = box;
    }
    ASSERT_NE(paper, nullptr);
    paper->setCurrentIndex(paper->findText(QStringLiteral("Letter")));
    window.subject_page()->folder_edit->setText(folder);
    Q_EMIT window.subject_page()->folder_edit->editingFinished();
  }
  MainWindow again(ISOKIN_PROTOCOLS_DIR);
  EXPECT_EQ(again.lab_name_edit()->text(), QStringLiteral("Sports Lab Basel"));
  EXPECT_EQ(again.subject_page()->folder(), folder);
  EXPECT_EQ(again.sessions_page()->folder_edit->text(), folder);

  // A session to report on, from the command line.
  const QString session = dir.filePath(QStringLiteral("s.h5"));
  run_program(QStringLiteral(ISOKIN_CLI_PATH),
              {QStringLiteral("demo"), QStringLiteral("--out"), session});
  const QString pdf = dir.filePath(QStringLiteral("r.pdf"));
  run_program(QStringLiteral(ISOKIN_GUI_PATH), {session, QStringLiteral("--pdf"), pdf});
  const QString info = QString::fromUtf8(run_program(QStringLiteral("pdfinfo"), {pdf}));
  EXPECT_TRUE(info.contains(QStringLiteral("(letter)"))) << info.toStdString();
  EXPECT_TRUE(
      QString::fromUtf8(run_program(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}))
          .contains(QStringLiteral("Sports Lab Basel")));
  run_program(QStringLiteral(ISOKIN_GUI_PATH),
              {session, QStringLiteral("--pdf"), pdf, QStringLiteral("--lab"),
               QStringLiteral("Visiting Lab"), QStringLiteral("--paper"), QStringLiteral("A4")});
  EXPECT_TRUE(QString::fromUtf8(run_program(QStringLiteral("pdfinfo"), {pdf}))
                  .contains(QStringLiteral("(A4)")));
  EXPECT_TRUE(
      QString::fromUtf8(run_program(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}))
          .contains(QStringLiteral("Visiting Lab")));
  // A one-off --lab is not remembered.
  EXPECT_EQ(MainWindow(ISOKIN_PROTOCOLS_DIR).lab_name_edit()->text(),
            QStringLiteral("Sports Lab Basel"));
}

// A port that was free a moment ago, for a server the test starts next.
int free_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

// The application serves the live stream like `isokin run --stream`: the example client gets
// every sample recorded and each repetition's peak torque as analysed.
TEST(DesktopApp, ServesTheLiveStreamToThePythonExampleClient) {
  QTemporaryDir dir;
  const int port = free_port();
  QProcess client;
  client.setProcessChannelMode(QProcess::MergedChannels);
  client.start(
      QStringLiteral("/usr/bin/python3"),
      {QStringLiteral(ISOKIN_SOURCE_DIR "/examples/stream_client.py"), QStringLiteral("--wait"),
       QStringLiteral("60"), QStringLiteral("--port"), QString::number(port)});
  ASSERT_TRUE(client.waitForStarted());

  TestSession session;
  TestPlan plan;
  plan.out = dir.filePath(QStringLiteral("streamed.h5")).toStdString();
  const auto protocol =
      acquisition::load_protocol(ISOKIN_PROTOCOLS_DIR "/knee-60-180-bilateral.json");
  plan.plan = acquisition::plan_protocol(protocol, {drivers::Side::kRight});
  plan.info.protocol_name = protocol.name;
  plan.info.protocol_json = protocol.json_text;
  plan.info.subject.id = "S-7";
  plan.time_scale = 0.0;
  plan.stream_port = port;
  plan.stream_wait_clients = 1;
  QSignalSpy finished(&session, &TestSession::finished);
  QSignalSpy phases(&session, &TestSession::phase_analysed);
  QString error;
  ASSERT_TRUE(session.start(plan, &error)) << error.toStdString();
  QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 120'000);
  EXPECT_TRUE(finished.front().at(0).toBool()) << finished.front().at(2).toString().toStdString();
  // The event loop above may already have seen it end.
  ASSERT_TRUE(client.state() == QProcess::NotRunning || client.waitForFinished(60'000));
  const QString printed = QString::fromUtf8(client.readAll());
  EXPECT_EQ(client.exitCode(), 0) << printed.toStdString();

  const auto recorded = acquisition::read_session(plan.out);
  std::size_t samples = 0;
  for (const auto& set : recorded.sets) samples += set.signals.time.size();
  EXPECT_TRUE(printed.contains(QStringLiteral("stream ended: %1 samples received").arg(samples)))
      << printed.toStdString();
  EXPECT_TRUE(printed.contains(QStringLiteral("\"id\": \"S-7\""))) << printed.toStdString();
  // Each analysed phase reached the client with the peak torque the GUI showed.
  ASSERT_EQ(phases.size(), 20);  // 2 sets × 5 repetitions × 2 movements
  for (const auto& arguments : phases) {
    const auto phase = arguments.at(0).value<LivePhase>();
    EXPECT_TRUE(
        printed.contains(QStringLiteral("peak torque %1 N·m").arg(phase.peak_torque, 0, 'f', 1)))
        << phase.peak_torque;
  }
  const bool has_stream_event = std::any_of(recorded.events.begin(), recorded.events.end(),
                                            [](const auto& e) { return e.kind == "stream-stats"; });
  EXPECT_TRUE(has_stream_event);
}

// Abort mid-set, as the operator's Abort button does: the file keeps what was recorded and the
// report says the recording is incomplete.
TEST(DesktopApp, AbortMidSetKeepsTheRecordingAndTheReportSaysItIsIncomplete) {
  QTemporaryDir dir;
  MainWindow window(ISOKIN_PROTOCOLS_DIR);
  TestSession& session = *window.test_session();
  TestPlan plan;
  plan.out = dir.filePath(QStringLiteral("aborted.h5")).toStdString();
  const auto protocol =
      acquisition::load_protocol(ISOKIN_PROTOCOLS_DIR "/knee-60-180-bilateral.json");
  plan.plan = acquisition::plan_protocol(protocol);
  plan.info.protocol_name = protocol.name;
  plan.info.protocol_json = protocol.json_text;
  plan.info.subject.id = "S-8";
  plan.time_scale = 0.0;
  plan.device_options.realtime = true;  // paced: the set lasts long enough to be aborted
  QSignalSpy finished(&window, &MainWindow::test_finished);
  QSignalSpy phases(&session, &TestSession::phase_analysed);
  QString error;
  ASSERT_TRUE(session.start(plan, &error)) << error.toStdString();
  QTRY_VERIFY_WITH_TIMEOUT(phases.size() >= 1, 60'000);
  session.abort();
  QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60'000);
  EXPECT_FALSE(finished.front().at(0).toBool());

  const auto recorded = acquisition::read_session(plan.out);
  EXPECT_FALSE(recorded.complete);
  // The right side's gravity trial (no phases), then the first test set, aborted.
  ASSERT_EQ(recorded.sets.size(), 2u);
  EXPECT_EQ(recorded.sets.front().info.kind, acquisition::kSetKindGravity);
  EXPECT_TRUE(recorded.sets.front().stats.complete);
  EXPECT_FALSE(recorded.sets.back().stats.complete);
  EXPECT_GT(recorded.sets.back().signals.time.size(), 100u);
  // The window showed the report of what was recorded, marked incomplete.
  EXPECT_EQ(window.tabs()->currentIndex(), 2);
  EXPECT_TRUE(window.report_view()->browser()->toPlainText().contains(
      QStringLiteral("Recording incomplete")));
}

}  // namespace
}  // namespace isokin::gui
