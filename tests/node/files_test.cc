// Proves that the node's files are written the way keys must be: a private file is 0600 from its
// creation (never readable by others, not even between create and chmod), a write replaces the
// file atomically, a symbolic link planted at the temporary name is not followed (the target is
// untouched), and the document store refuses bytes that do not match their name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/config.h"
#include "node/document_store.h"

namespace colend::node {
namespace {

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("colend-files-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(NodeFiles, PrivateFilesAre0600AndWritesAreAtomic) {
  const std::string dir = TempDir("mode");
  const mode_t old_umask = ::umask(0);  // a permissive umask must not widen a key file
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "secret", /*private_file=*/true).ok());
  ASSERT_TRUE(WriteFile(dir + "/config.json", "{}", /*private_file=*/false).ok());
  ::umask(old_umask);
  EXPECT_EQ(Mode(dir + "/signing.key"), 0600u);
  EXPECT_EQ(Mode(dir + "/config.json"), 0644u);
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "rotated", true).ok());
  EXPECT_EQ(*ReadFile(dir + "/signing.key"), "rotated");
  EXPECT_FALSE(std::filesystem::exists(dir + "/signing.key.tmp"));
  std::filesystem::remove_all(dir);
}

TEST(NodeFiles, ALinkPlantedAtTheTemporaryNameIsNotFollowed) {
  const std::string dir = TempDir("link");
  { std::ofstream(dir + "/victim") << "untouched"; }
  std::filesystem::create_symlink(dir + "/victim", dir + "/signing.key.tmp");
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "secret", true).ok());
  EXPECT_EQ(*ReadFile(dir + "/victim"), "untouched");
  EXPECT_EQ(*ReadFile(dir + "/signing.key"), "secret");
  EXPECT_EQ(Mode(dir + "/signing.key"), 0600u);
  std::filesystem::remove_all(dir);
}

TEST(DocumentStore, KeepsBytesUnderTheirHashAndRefusesChangedFiles) {
  const std::string dir = TempDir("docs");
  DocumentStore store(dir + "/documents");
  auto sha = store.Put("the signed contract");
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, crypto::Sha256("the signed contract"));
  EXPECT_TRUE(store.Has(*sha));
  EXPECT_EQ(*store.Get(*sha), "the signed contract");
  { std::ofstream(store.PathOf(*sha), std::ios::trunc) << "a changed contract"; }
  EXPECT_EQ(store.Get(*sha).error().code, "document-corrupt");
  EXPECT_EQ(store.Get(crypto::Sha256("absent")).error().code, "document-missing");
  EXPECT_EQ(store.Put("").error().code, "document-too-large");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace colend::node
