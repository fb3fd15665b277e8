// Parse an RSS feed read from stdin with Podcast Index's parser (podcast-partytime) and print what it kept as JSON.
const { parseFeed } = require("podcast-partytime");

let xml = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { xml += chunk; });
process.stdin.on("end", () => {
  const feed = parseFeed(xml, { allowMissingGuid: false });
  if (!feed) {
    process.stdout.write(JSON.stringify(null));
    return;
  }
  const enclosure = (e) => (e ? { url: e.url, length: e.length, type: e.type } : null);
  process.stdout.write(JSON.stringify({
    title: feed.title,
    link: feed.link,
    guid: feed.guid || null,
    items: (feed.items || []).map((i) => ({ guid: i.guid, title: i.title, enclosure: enclosure(i.enclosure) })),
    liveItems: (feed.podcastLiveItems || []).map((i) => ({
      guid: i.guid, title: i.title, status: i.status, enclosure: enclosure(i.enclosure),
      contentLinks: (i.contentLinks || []).map((c) => c.url),
    })),
    updateFrequency: feed.podcastUpdateFrequency || null,
  }));
});
