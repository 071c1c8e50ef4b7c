"""The example inputs the tabs offer, written for this project (see assets/README.md).

Kept as Python so the long texts stay readable; texts.py writes them to texts/examples.json.
"""

GENERATION = [
    "Once upon a time,",
    "The weather today is",
    "Transformers are a type of neural network that",
    "In a small village by the sea, an old baker",
    "Here are three tips for learning a new language:",
    "What is the capital of France?",
]

TRANSLATION = [
    {"text": "Good morning!", "source": "en", "target": "de"},
    {"text": "Hello, how are you?", "source": "en", "target": "fr"},
    {"text": "How are you?", "source": "en", "target": "fr"},
    {"text": "The train to the airport leaves every twenty minutes.", "source": "en", "target": "es"},
    {"text": "Guten Morgen! Wie geht es dir heute?", "source": "de", "target": "en"},
    {"text": "Das Wetter ist heute schön, aber morgen soll es regnen.", "source": "de", "target": "en"},
    {"text": "Le chat dort sur le canapé depuis ce matin.", "source": "fr", "target": "en"},
    {"text": "¿Dónde está la estación de tren, por favor?", "source": "es", "target": "en"},
    {
        "text": (
            "Dear Anna,\n\n"
            "Thank you for the lovely weekend. The weather was perfect, and the walk along the "
            "river was the best part of the trip.\n\n"
            "Next month we are going to visit my parents in the mountains. Would you like to come "
            "with us? There is a small hotel near the lake, and the rooms are not expensive.\n\n"
            "Please let me know by Friday.\n\nBest wishes,\nTom"
        ),
        "source": "en",
        "target": "de",
    },
]

_BICYCLES = """\
When the town of Lindholm closed its main street to cars for a single summer, most shop owners expected the worst. They had spent years arguing that customers needed parking spaces right in front of their doors, and that anyone who could not drive up to a shop would simply go somewhere else. The town council agreed to the trial only because the street was due to be dug up for new water pipes anyway, and a few months without traffic seemed like a small price to pay.

What happened next surprised almost everyone. Within a few weeks, the empty lanes filled with bicycles, prams, children on scooters and older residents who had not walked into the centre for years. Cafés put tables on the pavement, and a bookshop that had been close to shutting down began holding readings outside in the evenings. The owner of a hardware store counted his customers every day and found that the number had risen by about a fifth, even though each visitor spent a little less on average.

Not every change was welcome. Delivery drivers complained that they had to carry heavy boxes further, and some people with limited mobility found it harder to reach the doctor's surgery at the end of the street. The council responded by allowing deliveries before ten in the morning and by running a small electric shuttle that stopped at the surgery, the pharmacy and the station. Noise levels, measured by students from the local school, fell sharply, and the students also recorded cleaner air on weekday mornings.

When the pipes were finished in September, the council held a public vote on whether to reopen the street to cars. Nearly two thirds of those who took part asked to keep it closed. The shop owners who had protested loudest in spring were now split: some still missed the passing trade from drivers, while others said they had never had a better summer.

Lindholm has since added covered bicycle racks, planted trees along the old parking bays and extended the shuttle to two neighbouring villages. Planners from other towns now visit regularly to see the street for themselves. The mayor likes to point out that the experiment cost very little, because the street had to be closed for the building work in any case. The real lesson, she says, is that people often cannot imagine a different way of using a place until they have had the chance to try it.
"""

_FORECASTING = """\
For most of human history, predicting the weather meant watching the sky. Farmers and sailors learned that a red sky in the evening often came before a fine day, that swallows flying low could mean rain, and that a ring around the moon was a warning of wet weather ahead. Some of these sayings contain real physics, because they describe the moisture and pressure changes that come before a storm. But they only work for a few hours ahead and for a single place, and they fail as often as they succeed.

The first step towards modern forecasting came with instruments. The thermometer and the barometer, both developed in the seventeenth century, allowed people to measure the state of the air instead of guessing it. Observers soon noticed that falling pressure tended to bring unsettled weather, while rising pressure brought calm, clear days. Still, a single barometer in one town could say little about the weather that was on its way from hundreds of kilometres away.

That changed in the middle of the nineteenth century with the electric telegraph. For the first time, observations from many places could be gathered in one office on the same day. Meteorologists began to draw weather maps, marking the pressure and wind at each station and connecting points of equal pressure with lines. On these maps, storms appeared as large swirling systems that moved across the continent at a fairly steady pace. If a storm was over the ocean today, a forecaster could estimate when it would reach the coast. Several countries set up national weather services, and storm warnings for ships became one of their most important tasks, because a timely warning could save dozens of lives.

In the early twentieth century, a group of scientists in Norway developed the idea of weather fronts: boundaries between large masses of warm and cold air. Their model explained why rain often arrives in bands, why temperatures jump when a front passes, and how low-pressure systems grow, mature and decay. The front became the basic unit of the weather map, and forecasters still draw them today. At around the same time, a British mathematician tried something far more ambitious. He wrote down the equations that govern the motion of the air, divided Europe into a grid of boxes and attempted to calculate the weather six hours ahead by hand. The calculation took him weeks, and the result was badly wrong, mainly because of errors in the starting data. Yet his idea was sound: if you know the present state of the atmosphere well enough, you can compute its future.

The missing ingredient was speed, and it arrived with the electronic computer. In the 1950s, researchers ran the first numerical forecasts on machines that filled entire rooms. The early models were crude and covered only a few levels of the atmosphere, but they showed that a computer could produce a useful map of tomorrow's weather faster than the weather itself arrived. Over the following decades, computers became millions of times more powerful, and the models grew to match. Today's global models divide the whole planet into cells only a few kilometres wide, with dozens of layers stacked from the ground to the upper atmosphere.

Better observations were just as important as faster computers. Weather balloons carry instruments high into the sky twice a day from hundreds of sites around the world. Satellites, first launched in the 1960s, photograph clouds, measure temperatures through the depth of the atmosphere and track moisture over oceans where there are no ground stations at all. Radar shows where rain is falling right now and how fast it is moving. Aircraft, ships and buoys add millions more measurements. All of these observations are blended together in a process called data assimilation, which produces the best possible picture of the current state of the atmosphere before the model begins its calculation.

Even with perfect computers, forecasts cannot be perfect. In the 1960s, an American meteorologist discovered that tiny differences in the starting conditions of a simple weather model grew until the results had nothing in common. This sensitivity, later popularised as the butterfly effect, means that there is a natural limit to how far ahead the weather can be predicted in detail, probably around two weeks. Forecasters respond by running the same model many times with slightly different starting conditions. If most of these runs agree, the forecast can be trusted; if they spread apart, the forecast is uncertain, and that uncertainty can be expressed as a probability, such as a seventy per cent chance of rain.

The results of all this work are impressive. A forecast for five days ahead is now about as accurate as a forecast for one day ahead was in the early 1980s. Warnings for hurricanes, floods and heat waves arrive earlier and cover the right areas more often, giving people time to prepare and to leave if necessary. Farmers plan their harvests, airlines plan their routes and power companies plan how much electricity will be needed, all using forecasts that would have seemed like magic a century ago.

The newest chapter is being written with machine learning. In the last few years, several research groups have trained neural networks, some of them based on the transformer architecture, on decades of past weather data. Instead of solving the equations of motion directly, these models learn how the atmosphere tends to change from one six-hour step to the next. Once trained, they can produce a ten-day global forecast in about a minute on a single chip, compared with hours on a supercomputer for a traditional model, and their accuracy is already competitive for many measures. They still depend on the traditional systems, though: they are trained on data that the physics-based models helped to produce, and they start each forecast from the same carefully assimilated observations.

Many meteorologists expect the future to combine both approaches, with physical models providing a solid foundation and learned models adding speed and extra detail. Whatever the method, the basic recipe has stayed remarkably stable since the age of the telegraph: measure the atmosphere as widely and precisely as possible, share the measurements quickly, and use the best available tools to work out what comes next. The sky-watchers of the past would probably recognise the goal, even if the tools would astonish them.
"""

SUMMARIZATION = [
    {"title": "A town that closed its main street to cars", "text": _BICYCLES},
    {"title": "How weather forecasting grew up (long: over 1,024 tokens)", "text": _FORECASTING},
]

_LIBRARY = """\
The public library in the harbour town of Westerby began in 1872 as a single shelf of donated books in the back room of the customs house. Sailors waiting for their ships to be cleared were the first readers, and most of the early collection consisted of atlases, almanacs and adventure stories left behind by passengers. A retired ship's carpenter named Jonas Hale looked after the shelf in his spare time. He kept a handwritten register of every loan, and several of his notebooks still survive in the town archive, showing which books were most popular and how long people kept them.

By the end of the century, the collection had outgrown the customs house. The town council rented two rooms above a bakery on Market Street, and for almost thirty years readers climbed a narrow staircase that smelled of fresh bread to borrow their books. The rooms were cramped and poorly lit, and the librarian of the time complained in her annual reports that the floor sagged under the weight of the newspapers. Even so, the number of registered members grew steadily, from a few hundred to more than two thousand, as the town's population increased and the local school began to send its pupils there every week.

The need for a proper building became urgent after a winter storm in 1925 damaged the bakery's roof. Rain soaked a large part of the reference collection, and volunteers spent weeks drying pages with blotting paper and warm irons. A fundraising campaign followed. Fishermen's families held suppers, the brass band played summer concerts in the park, and a wealthy shipping company offered to pay for half of the construction if the town could raise the rest. Architects were invited to submit designs, and the winning plan was a two-storey brick building with tall windows facing the sea, a reading room with a curved ceiling and a separate room for children, which was an unusual idea at the time.

Construction was slowed by a shortage of bricks and by a long dispute about whether the building should have a clock tower. In the end the tower was left out to save money, and the clock that had been ordered for it was mounted above the main entrance instead, where it still keeps time today. During the building work, the books were stored in a disused sail loft, and a small lending counter was opened in the town hall so that readers would not be without books for the three years that the project lasted.

Over the following decades the library changed with the town. A record collection was added in the 1950s, and a mobile library van began to visit the farms and villages along the coast in 1962. In the 1980s the card catalogue was replaced by the first computer terminals, which many older readers distrusted at first. A major renovation in 2009 added a lift, a café and a room for community meetings, and the old reading room was restored with its original lamps. The archive of local history, including Jonas Hale's notebooks, was moved to a climate-controlled basement.

The children's room deserves a story of its own. Its first librarian, a former schoolteacher, refused to put the books on high shelves and had the carpenters build low cases that even the smallest readers could reach. She organised storytelling afternoons every Saturday, and in the harsh winters of the 1940s, when coal was scarce at home, the warm room was often full from opening to closing time. Many residents who are now grandparents remember learning to read there, sitting on the wide windowsills with a view of the fishing boats. The low shelves were kept in the 2009 renovation, and the Saturday stories continue, now read by volunteers from the secondary school.

Visitors today often ask about the date carved above the clock at the entrance. The new library building was officially opened on 14 June 1931 by the mayor, Margarethe Olsen, who cut a ribbon made from old sailcloth in honour of the library's beginnings among the ships. More than three thousand people attended the ceremony, and the first book borrowed from the new building was, according to the register, a guide to the birds of the northern coast.
"""

QUESTION_ANSWERING = [
    {
        "question": "Where is the Eiffel Tower?",
        "context": "The Eiffel Tower is in Paris.",
        "answer": "Paris",
    },
    {
        "question": "What does the decoder produce?",
        "context": (
            "In an encoder-decoder transformer, the encoder reads the whole input sentence and turns "
            "it into a sequence of vectors. The decoder then produces the output sentence one token "
            "at a time, looking back at the encoder's vectors through cross-attention."
        ),
        "answer": "the output sentence",
    },
    {
        "question": "How often does the airport bus run?",
        "context": (
            "The airport bus leaves from stop B outside the main station. It runs every twenty "
            "minutes between five in the morning and midnight, and a single ticket costs four euros. "
            "Tickets can be bought from the driver or from the machines on the platform."
        ),
        "answer": "every twenty minutes",
    },
    {
        "question": "When was the new library building officially opened?",
        "context": _LIBRARY,
        "answer": "14 June 1931",
    },
    {
        "question": "What is the population of the town?",
        "context": (
            "The old lighthouse on the northern cliff was built in 1856 and guided ships past the "
            "rocks for more than a century. It was switched off in 1971, when a modern beacon was "
            "placed on the harbour wall, and it is now a small museum that opens on summer weekends."
        ),
        "answer": None,  # not in the context: a reader should say it has no good answer
    },
]

CODE = [
    "def add(a, b):\n    return",
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n',
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n",
    "import csv\n\n# Read prices.csv and print the average of the 'price' column\n",
    "def is_palindrome(text: str) -> bool:\n",
]

# Extra inputs for tabs that show the course's other examples.
IMAGE_LABELS = [
    "a photo of a cat", "a photo of a dog", "a photo of a car",
    "a photo of fruit", "a photo of a house", "a photo of a sunset over the sea",
]
FILL_MASK = ["The [MASK] chased the mouse.", "Paris is the [MASK] of France."]
SENTIMENT = ["I love this product!", "This was the worst meal I have ever had, and it was cold."]
