// scenarios/README.md documents every key; its generated section must match
// the loader's field lists.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "sim/config/load.hpp"

namespace ccpnet::config {
namespace test_schema_doc {

TEST(SchemaDoc, ScenariosReadmeIsUpToDate) {
  std::ifstream in(std::string(CCPNET_SOURCE_DIR) + "/scenarios/README.md");
  ASSERT_TRUE(in) << "scenarios/README.md is missing";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(text == with_schema_reference(text))
      << "scenarios/README.md is out of date: run build/bin/ccpnet schema --update scenarios/README.md";
}

TEST(SchemaDoc, EveryTopLevelSectionIsDocumented) {
  const std::string doc = schema_markdown();
  for (const char* section : {"`simulation`", "`market`", "`ccps[]`", "`members[]`", "`links[]`", "`defaults`"})
    EXPECT_NE(doc.find(section), std::string::npos) << section;
}

}  // namespace test_schema_doc
}  // namespace ccpnet::config
