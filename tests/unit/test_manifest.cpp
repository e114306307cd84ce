// Manifest parsing (no generation): how each format treats the files users actually produce
// (Excel's CSV with a byte-order mark, quoted newlines) and the mistakes they make (a column or
// key named twice, a ragged row, an unterminated quote, a header with no rows).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "jobs/manifest.h"
#include "engine/settings.h"
#include "test_util.h"

namespace thg {
namespace {

namespace fs = std::filesystem;

class Manifest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "face.png", "x");
    test::write_file(dir_ / "talk.wav", "x");
  }
  pipeline::Manifest parse(const std::string& text, const std::string& format) {
    return pipeline::parse_manifest(text, format, dir_.path(), "jobs." + format);
  }
  test::ScratchDir dir_;
};

TEST_F(Manifest, ExcelCsvWithAByteOrderMarkReadsLikePlainCsv) {
  const std::string rows = "portrait,audio,output,steps\r\nface.png,talk.wav,a.mp4,3\r\n";
  const auto plain = parse(rows, "csv");
  const auto excel = parse("\xEF\xBB\xBF" + rows, "csv");
  ASSERT_EQ(excel.jobs.size(), 1u);
  EXPECT_TRUE(excel.jobs[0].problems.empty()) << excel.jobs[0].problems[0];
  EXPECT_EQ(excel.jobs[0].portrait, plain.jobs[0].portrait);
  EXPECT_EQ(excel.jobs[0].options.values.at("steps"), "3");
}

TEST_F(Manifest, CsvColumnNamedTwiceIsRefusedNamingIt) {
  test::expect_input_error([&] { parse("portrait,audio,output,steps,Steps\nface.png,talk.wav,a.mp4,2,9\n", "csv"); },
                           "jobs.csv", "the header names column 'Steps' twice (column 5)");
}

TEST_F(Manifest, JsonlKeyNamedTwiceIsThatRowsProblem) {
  const auto m = parse(
      "{\"portrait\":\"face.png\",\"audio\":\"talk.wav\",\"output\":\"a.mp4\",\"seed\":1,\"seed\":2}\n"
      "{\"portrait\":\"face.png\",\"audio\":\"talk.wav\",\"output\":\"b.mp4\",\"guidance-ref\":1,\"guidance_ref\":2}\n"
      "{\"portrait\":\"face.png\",\"audio\":\"talk.wav\",\"output\":\"c.mp4\"}\n",
      "jsonl");
  ASSERT_EQ(m.jobs.size(), 3u);
  ASSERT_EQ(m.jobs[0].problems.size(), 1u);
  EXPECT_EQ(m.jobs[0].problems[0], "field 'seed' appears twice");
  ASSERT_EQ(m.jobs[1].problems.size(), 1u);
  EXPECT_EQ(m.jobs[1].problems[0], "field 'guidance_ref' appears twice");
  EXPECT_TRUE(m.jobs[2].problems.empty());
}

TEST_F(Manifest, YamlKeyNamedTwiceIsRefused) {
  const auto m = parse("jobs:\n  - {portrait: face.png, audio: talk.wav, output: a.mp4, steps: 1, steps: 5}\n"
                       "  - {portrait: face.png, audio: talk.wav, output: b.mp4}\n",
                       "yaml");
  ASSERT_EQ(m.jobs.size(), 2u);
  ASSERT_EQ(m.jobs[0].problems.size(), 1u);
  EXPECT_EQ(m.jobs[0].problems[0], "field 'steps' appears twice");
  EXPECT_TRUE(m.jobs[1].problems.empty());
  test::expect_input_error([&] { parse("defaults: {seed: 1, seed: 2}\njobs: []\n", "yaml"); }, "jobs.yaml",
                           "`defaults:` names 'seed' twice");
}

TEST_F(Manifest, CsvQuotedFieldsKeepCommasQuotesAndNewlines) {
  const auto m = parse("portrait,audio,output\nface.png,talk.wav,\"two\nlines, \"\"quoted\"\".mp4\"\n", "csv");
  ASSERT_EQ(m.jobs.size(), 1u);
  EXPECT_EQ(m.jobs[0].output, "two\nlines, \"quoted\".mp4");
}

TEST_F(Manifest, CsvUnterminatedQuoteIsRefused) {
  test::expect_input_error([&] { parse("portrait,audio,output\nface.png,talk.wav,\"a.mp4\n", "csv"); }, "jobs.csv",
                           "unterminated quoted CSV field");
}

TEST_F(Manifest, CsvRaggedRowIsThatRowsProblemOnly) {
  const auto m = parse("portrait,audio,output\nface.png,talk.wav\nface.png,talk.wav,b.mp4\n", "csv");
  ASSERT_EQ(m.jobs.size(), 2u);
  ASSERT_EQ(m.jobs[0].problems.size(), 1u);
  EXPECT_EQ(m.jobs[0].problems[0], "has 2 fields, the header has 3");
  EXPECT_EQ(m.jobs[0].where, "row 2");
  EXPECT_TRUE(m.jobs[1].problems.empty());
}

TEST_F(Manifest, HeaderOnlyCsvHasNoJobs) {
  test::expect_input_error([&] { parse("portrait,audio,output\r\n", "csv"); }, "jobs.csv", "the manifest has no jobs");
  test::expect_input_error([&] { parse("\xEF\xBB\xBF", "csv"); }, "jobs.csv", "the CSV manifest is empty");
}

}  // namespace
}  // namespace thg

namespace thg {
namespace {

// A valid value of a setting that is not its default: the middle of a range, the last choice.
std::string sample_value(const pipeline::SettingInfo& row) {
  switch (row.type) {
    case pipeline::SettingInfo::Type::Integer:
      return row.max > 1e15 ? "123" : std::to_string(static_cast<int64_t>((row.min + row.max) / 2));
    case pipeline::SettingInfo::Type::Number: return std::to_string((row.min + row.max) / 2);
    case pipeline::SettingInfo::Type::Text: return row.choices.back();
    case pipeline::SettingInfo::Type::Flag: return "false";
  }
  return "";
}

// One table, every place: each setting is a manifest field (checked by the table, reaching the
// job's options) and a CLI flag of thg generate, under one name.
TEST(Settings, EverySettingIsAManifestFieldAndACliFlag) {
  const auto r = test::run_thg({"generate", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  for (const pipeline::SettingInfo& row : pipeline::generation_settings()) {
    const std::string value = sample_value(row);
    pipeline::GenerateOptions expected;
    row.set(expected, value);
    ASSERT_FALSE(row.get(expected).empty()) << row.name << ": the sample value is the default";
    const std::string jsonl = std::string("{\"portrait\": \"rgb8.png\", \"audio\": \"audio.m4a\", \"output\": \"o.mp4\", \"") +
                              row.name + "\": \"" + value + "\"}\n";
    const pipeline::Manifest m = pipeline::parse_manifest(jsonl, "jsonl", test::data("media"), "jobs.jsonl");
    ASSERT_EQ(m.jobs.size(), 1u);
    EXPECT_TRUE(m.jobs[0].problems.empty()) << row.name << ": " << m.jobs[0].problems[0];
    pipeline::GenerateOptions applied;
    m.jobs[0].options.apply_to(applied);
    EXPECT_EQ(row.get(applied), row.get(expected)) << row.name;
    // The same setting spelled with dashes, as its CLI flag is.
    std::string dashed = row.name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    const pipeline::Manifest m2 = pipeline::parse_manifest("portrait,audio,output," + dashed + "\nrgb8.png,audio.m4a,o.mp4," + value + "\n",
                                                           "csv", test::data("media"), "jobs.csv");
    EXPECT_TRUE(m2.jobs[0].problems.empty()) << dashed;
    // Out of range or not a choice: the row's problem names the setting.
    if (row.type != pipeline::SettingInfo::Type::Flag) {
      const std::string wrong = row.type == pipeline::SettingInfo::Type::Text ? "no-such-choice" : "1e30";
      const pipeline::Manifest bad = pipeline::parse_manifest(
          std::string("{\"portrait\": \"rgb8.png\", \"audio\": \"audio.m4a\", \"output\": \"o.mp4\", \"") + row.name + "\": \"" + wrong + "\"}\n",
          "jsonl", test::data("media"), "jobs.jsonl");
      ASSERT_FALSE(bad.jobs[0].problems.empty()) << row.name;
      EXPECT_EQ(bad.jobs[0].problems[0].rfind(std::string(row.name) + " must be", 0), 0u) << bad.jobs[0].problems[0];
    }
    // The CLI: --name-with-dashes, or --no-crop for the crop switch.
    const std::string flag = std::string(row.name) == "crop" ? "--no-crop" : row.flag();
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from thg generate --help";
  }
}

}  // namespace
}  // namespace thg
