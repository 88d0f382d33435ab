// Proves that Sha256 and Sm3 match published known-answer vectors (FIPS 180-2 examples,
// GB/T 32905-2016 examples) and that hex encoding round-trips and rejects malformed input.
#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace colend::crypto {
namespace {

TEST(HashTest, Sha256KnownAnswers) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// A digest fed in pieces (a file read in chunks) is the digest of the whole.
TEST(HashTest, Sha256StreamIsTheDigestOfThePiecesJoined) {
  std::string whole;
  for (int i = 0; i < 5000; ++i) whole += static_cast<char>(i * 7 % 251);
  for (std::size_t piece : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{1000}, whole.size()}) {
    Sha256Stream stream;
    for (std::size_t at = 0; at < whole.size(); at += piece) {
      stream.Update(std::string_view(whole).substr(at, piece));
    }
    EXPECT_EQ(ToHex(stream.Final()), ToHex(Sha256(whole))) << "pieces of " << piece;
  }
  Sha256Stream empty;
  EXPECT_EQ(ToHex(empty.Final()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashTest, Sm3KnownAnswers) {
  EXPECT_EQ(ToHex(Sm3("abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
  std::string abcd16;
  for (int i = 0; i < 16; ++i) abcd16 += "abcd";
  EXPECT_EQ(ToHex(Sm3(abcd16)), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

TEST(HashTest, HashesBinaryInputWithNulBytes) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256(with_nul), Sha256("a"));
  EXPECT_NE(Sm3(with_nul), Sm3("a"));
}

TEST(HashTest, HexRoundTrip) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::string hex = ToHex(all_bytes);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  Result<std::string> back = FromHex(hex);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, all_bytes);
  EXPECT_EQ(*FromHex("DEADbeef"), std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(*FromHex(""), "");
}

TEST(HashTest, HexRejectsMalformed) {
  for (std::string_view bad : {"abc", "0g", "zz", " 00", "00 ", "0x00", "-1"}) {
    Result<std::string> r = FromHex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "bad-hex") << bad;
  }
}

TEST(HashTest, Hash256FromHex) {
  const Hash256 h = Sha256("abc");
  Result<Hash256> back = Hash256FromHex(ToHex(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_EQ(AsBytes(h).size(), 32u);
  EXPECT_EQ(Hash256FromHex(ToHex(h).substr(2)).error().code, "bad-hex");  // 62 digits
  EXPECT_EQ(Hash256FromHex(ToHex(h) + "00").error().code, "bad-hex");     // 66 digits
  std::string bad = ToHex(h);
  bad[10] = 'x';
  EXPECT_EQ(Hash256FromHex(bad).error().code, "bad-hex");
}

}  // namespace
}  // namespace colend::crypto
