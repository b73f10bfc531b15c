// What jsdom lacks and the app uses (the build test runs in plain Node, without a window).
if (typeof window !== "undefined") window.scrollTo = () => undefined;
