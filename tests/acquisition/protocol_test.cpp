// Protocol files: the shipped ones, the schema's checks and their messages, the plan.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "isokin/acquisition/protocol.h"

namespace {

namespace fs = std::filesystem;
using namespace isokin::acquisition;
using isokin::drivers::ContractionMode;
using isokin::drivers::Joint;
using isokin::drivers::Side;

const fs::path kShipped = fs::path(ISOKIN_SOURCE_DIR) / "protocols";

std::string minimal(const std::string& sets, const std::string& extra = "") {
  return R"({"schema": "isokin-protocol", "schema_version": 1, "name": "t", "joint": "knee",
             "sides": ["right"], "range_of_motion_deg": {"min": 5, "max": 95},)" +
         extra + R"( "sets": )" + sets + "}";
}

// Parsing fails with a ProtocolError whose message contains every fragment.
void expect_error(const std::string& text, std::initializer_list<std::string> fragments) {
  try {
    parse_protocol(text, "test.json");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const ProtocolError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.starts_with("test.json:")) << what;
    for (const auto& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

int count_kind(const std::vector<PlannedSet>& plan, const char* kind) {
  return static_cast<int>(std::count_if(plan.begin(), plan.end(),
                                        [&](const PlannedSet& p) { return p.info.kind == kind; }));
}

TEST(ShippedProtocols, EveryFileIsValidAndNamedAfterItsFile) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kShipped)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const Protocol p = load_protocol(entry.path());
    EXPECT_EQ(p.name, entry.path().stem().string());
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_FALSE(plan_protocol(p).empty());
  }
  EXPECT_EQ(files, 6);
}

TEST(ShippedProtocols, PlansFollowTheFiles) {
  // knee-60-180-300-concentric: per side a gravity trial, then warm-up + test at each of 3 speeds.
  auto plan = plan_protocol(load_protocol(kShipped / "knee-60-180-300-concentric.json"));
  ASSERT_EQ(plan.size(), 14u);
  EXPECT_EQ(count_kind(plan, kSetKindGravity), 2);
  EXPECT_EQ(count_kind(plan, kSetKindWarmUp), 6);
  EXPECT_EQ(plan[0].info.setpoint.side, Side::kRight);
  EXPECT_TRUE(plan[0].starts_side);
  EXPECT_TRUE(plan[0].info.setpoint.passive);
  EXPECT_EQ(plan[7].info.setpoint.side, Side::kLeft);
  EXPECT_TRUE(plan[7].starts_side);
  EXPECT_EQ(plan[6].rest_after, 180.0);  // between sides
  EXPECT_EQ(plan[6].info.setpoint.extension_velocity, 300.0);
  EXPECT_EQ(plan[6].info.setpoint.repetitions, 10);
  EXPECT_EQ(plan[2].info.setpoint.repetitions, 5);
  EXPECT_EQ(plan[1].info.setpoint.repetitions, 3);

  plan = plan_protocol(load_protocol(kShipped / "knee-functional-hq.json"), {Side::kLeft});
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[2].info.setpoint.mode, ContractionMode::kConcentricConcentric);
  EXPECT_EQ(plan[4].info.setpoint.mode, ContractionMode::kEccentricEccentric);
  for (const auto& p : plan) EXPECT_EQ(p.info.setpoint.side, Side::kLeft);

  plan = plan_protocol(load_protocol(kShipped / "knee-endurance-180.json"));
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[2].info.setpoint.repetitions, 30);
  EXPECT_EQ(plan[2].info.setpoint.extension_velocity, 180.0);

  plan = plan_protocol(load_protocol(kShipped / "knee-isometric-30-60-90.json"));
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].info.setpoint.hold_angle, 30.0);
  EXPECT_EQ(plan[1].info.setpoint.hold_angle, 60.0);
  EXPECT_EQ(plan[2].info.setpoint.hold_angle, 90.0);
  EXPECT_EQ(plan[2].info.setpoint.contraction_time, 5.0);
  EXPECT_EQ(plan[0].info.setpoint.mode, ContractionMode::kIsometric);

  plan = plan_protocol(load_protocol(kShipped / "trunk-flexion-extension.json"));
  ASSERT_EQ(plan.size(), 5u);
  for (const auto& p : plan) EXPECT_EQ(p.info.setpoint.joint, Joint::kTrunk);
  EXPECT_EQ(plan[4].info.setpoint.angle_max, 60.0);
  EXPECT_EQ(plan[4].rest_after, 0.0);  // nothing after the last set
}

TEST(ProtocolErrors, SyntaxErrorsNameLineAndColumn) {
  expect_error("{\n  \"name\": ,\n}", {"test.json:2:11:", "invalid JSON"});
  expect_error("", {"test.json:1:1:"});
}

TEST(ProtocolErrors, NumberTooLargeForADoubleNamesLineAndColumn) {
  // Regression: found by fuzz_protocol; nlohmann throws out_of_range (406), which escaped as a
  // foreign exception without file or position.
  expect_error("{\n  \"schema_version\": 1e99999\n}",
               {"test.json:2:21:", "invalid JSON", "number overflow"});
}

// Issue 19.13: JSON readers keep one of two equal keys; a protocol saying "repetitions" twice
// would silently run one of them. Refused, naming the key and both lines.
TEST(ProtocolErrors, ADuplicatedKeyIsRefusedNamingTheKeyAndItsLine) {
  const std::string set =
      "{\"mode\": \"concentric/concentric\", \"velocity_deg_s\": 60,\n"
      "  \"repetitions\": 5,\n"
      "  \"repetitions\": 3}";
  expect_error(minimal("[" + set + "]"),
               {"test.json:4:3:", "duplicate key \"repetitions\"", "first given on line 3"});
  // The same key in two different objects is not a duplicate.
  EXPECT_NO_THROW(parse_protocol(
      minimal(R"([{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 5},
                  {"mode": "concentric/concentric", "velocity_deg_s": 180, "repetitions": 5}])"),
      "test.json"));
  // A key written with an escape ("\u0072" is 'r') is the same key.
  expect_error(minimal(R"([{"mode": "concentric/concentric", "velocity_deg_s": 60,
                           "repetitions": 5, "\u0072epetitions": 4}])"),
               {"test.json:3:46:", "duplicate key \"repetitions\""});
}

TEST(ProtocolErrors, ContentErrorsNameTheJsonPointer) {
  const std::string good_set =
      R"([{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 5}])";
  EXPECT_NO_THROW(parse_protocol(minimal(good_set), "test.json"));
  expect_error(minimal(R"([{"mode": "concentric/concentric", "velocity": 60, "repetitions": 5}])"),
               {"/sets/0/velocity", "unknown key"});
  expect_error(
      minimal(R"([{"mode": "concentric/concentric", "velocity_deg_s": 900, "repetitions": 5}])"),
      {"/sets/0/velocity_deg_s", "900", "1–500"});
  // A protocol written for a newer build, or not a protocol at all.
  std::string newer = minimal(good_set);
  newer.replace(newer.find("\"schema_version\": 1"), 19, "\"schema_version\": 2");
  expect_error(newer, {"test.json: /schema_version: version 2 is newer than this build reads (1)"});
  std::string other = minimal(good_set);
  other.replace(other.find("isokin-protocol"), 15, "isokin-serial-profile");
  expect_error(other, {"test.json: /schema: must be \"isokin-protocol\""});
  expect_error(minimal(R"([{"mode": "isokinetic", "velocity_deg_s": 60, "repetitions": 5}])"),
               {"/sets/0/mode", "unknown mode 'isokinetic'"});
  expect_error(minimal(R"([{"mode": "isometric", "repetitions": 3}])"),
               {"/sets/0", "missing required key 'angles_deg'"});
  expect_error(minimal(R"([{"mode": "isometric", "angles_deg": [30, 120], "repetitions": 3}])"),
               {"/sets/0/angles_deg/1", "120"});
  expect_error(
      minimal(
          R"([{"mode": "isometric", "angles_deg": [30], "velocity_deg_s": 60, "repetitions": 3}])"),
      {"/sets/0/velocity_deg_s", "no velocity"});
  expect_error(minimal(R"([{"mode": "concentric/concentric", "repetitions": 5}])"),
               {"/sets/0", "velocity_deg_s"});
  expect_error(
      minimal(R"([{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 2.5}])"),
      {"/sets/0/repetitions", "whole number"});
  expect_error(minimal("[]"), {"/sets", "non-empty"});
  expect_error(minimal(good_set, R"("rest_between_sets_s": -1,)"), {"/rest_between_sets_s"});
  expect_error(minimal(good_set, R"("gravity_correction": {"trial": "yes"},)"),
               {"/gravity_correction/trial", "true or false"});
  std::string text = minimal(good_set);
  text.replace(text.find("\"t\""), 3, "\"Knee Test\"");
  expect_error(text, {"/name", "a–z"});
  text = minimal(good_set);
  text.replace(text.find("\"knee\""), 6, "\"trunk\"");
  expect_error(text, {"/sides", "no sides"});
  text = minimal(good_set);
  text.replace(text.find("\"schema_version\": 1"), 19, "\"schema_version\": 2");
  expect_error(text, {"/schema_version", "newer"});
  text = minimal(good_set);
  text.replace(text.find("\"max\": 95"), 9, "\"max\": 10");
  expect_error(text, {"/range_of_motion_deg", "at least 10°"});
  expect_error("[1, 2]", {"JSON object"});
}

TEST(ProtocolFiles, FoundByNameInTheSearchPathOrByPath) {
  const fs::path dir =
      fs::temp_directory_path() / ("isokin-protocols-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    std::ofstream(dir / "t.json") << minimal(
        R"([{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 5}])");
  }
  EXPECT_EQ(find_protocol("t", {dir, kShipped}), dir / "t.json");
  EXPECT_EQ(find_protocol("knee-endurance-180", {dir, kShipped}),
            kShipped / "knee-endurance-180.json");
  EXPECT_EQ(find_protocol((dir / "t.json").string(), {}), dir / "t.json");
  try {
    find_protocol("no-such-protocol", {dir, kShipped});
    ADD_FAILURE();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_protocol(dir / "missing.json"), ProtocolError);
  fs::remove_all(dir);
}

TEST(ProtocolPlan, ARequestedSideTheProtocolDoesNotTestIsAnError) {
  const Protocol p = parse_protocol(
      minimal(R"([{"mode": "concentric/concentric", "velocity_deg_s": 60, "repetitions": 5}])"),
      "test.json");
  EXPECT_THROW(plan_protocol(p, {Side::kLeft}), ProtocolError);
  EXPECT_EQ(plan_protocol(p, {Side::kRight}).size(), 1u);
}

}  // namespace
